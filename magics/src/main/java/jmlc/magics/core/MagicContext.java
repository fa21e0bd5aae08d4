package jmlc.magics.core;

/**
 * One invocation of a magic: what the user wrote, and everything the magic may use.
 *
 * @param name     the magic's name as written (without % or %%)
 * @param form     line ({@code %name args}) or cell ({@code %%name args} + body)
 * @param args     the rest of the magic's line, untrimmed of inner spaces
 * @param body     for a cell magic, the cell below its first line; "" for a line magic
 * @param session  state shared across cells and with Java code ({@link Jmlc#session()})
 * @param output   where text and displays go, immediately
 * @param shell    runs code as a cell would; the classpath
 * @param registry every magic, for those that list or call others ({@code %help})
 */
public record MagicContext(String name, Magic.Form form, String args, String body,
                           Session session, Output output, Shell shell, MagicRegistry registry) {

    /** Parses {@link #args} into a picocli-annotated object; see {@link MagicArgs#parse}. */
    public <T> T parse(T spec) {
        return MagicArgs.parse(name, args, spec);
    }

    /** Streams text to the cell's stdout now (a chat reply, token by token). */
    public void print(String text) {
        output.stdout(text);
    }

    public void println(String line) {
        output.stdout(line + "\n");
    }

    public void printErr(String line) {
        output.stderr(line + "\n");
    }

    /** Shows a value below the cell; the handle updates it in place. */
    public DisplayHandle display(Object value) {
        return DisplayHandle.open(output, value);
    }

    /** A live progress bar, updated in place ({@code total <= 0}: unknown total). */
    public Progress progress(String label, long total) {
        return new Progress(output, label, total);
    }

    /** Throws if the user interrupted the cell; long loops call it between steps. */
    public void checkInterrupted() throws InterruptedException {
        if (Thread.currentThread().isInterrupted()) throw new InterruptedException("interrupted by the user");
    }
}
