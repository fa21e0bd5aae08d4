package jmlc.magics.core;

/**
 * A mistake the user can fix (bad arguments, unknown magic, no model loaded): the kernel shows the
 * message alone, without a stack trace, and the session stays as it was.
 */
public class MagicException extends RuntimeException {

    public MagicException(String message) {
        super(message);
    }

    public MagicException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Thrown by argument parsing when the user asked for {@code --help}: the message is the usage, shown as output. */
    public static final class HelpRequested extends MagicException {
        public HelpRequested(String usage) {
            super(usage);
        }
    }
}
