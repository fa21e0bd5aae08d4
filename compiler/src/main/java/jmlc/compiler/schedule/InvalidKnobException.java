package jmlc.compiler.schedule;

/** A knob value from the tuning database (or a caller) that the rule cannot use: names the kernel, knob, value and what is allowed. */
public final class InvalidKnobException extends IllegalArgumentException {
    public InvalidKnobException(String message) {
        super(message);
    }
}
