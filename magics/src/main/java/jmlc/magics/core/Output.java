package jmlc.magics.core;

/**
 * Where a running cell's output goes. The kernel implements it on Jupyter's IOPub channel (stream,
 * display_data, update_display_data); {@link RecordingOutput} keeps everything for tests; {@link #SYSTEM}
 * prints text to the JVM's standard streams when no kernel runs.
 *
 * <p>Every call is sent at once: a magic streams text by calling {@link #stdout} per piece.
 */
public interface Output {

    void stdout(String text);

    void stderr(String text);

    /**
     * Shows a bundle below the cell.
     *
     * @param displayId null for a display that never changes, otherwise the id that
     *                  {@link #updateDisplay} later names (see {@link DisplayHandle})
     */
    void display(MimeBundle bundle, String displayId);

    /** Replaces, wherever it is shown, the display opened with this id. */
    void updateDisplay(String displayId, MimeBundle bundle);

    /** Prints the text/plain representations to System.out and System.err. */
    Output SYSTEM = new Output() {
        @Override
        public void stdout(String text) {
            System.out.print(text);
            System.out.flush();
        }

        @Override
        public void stderr(String text) {
            System.err.print(text);
            System.err.flush();
        }

        @Override
        public void display(MimeBundle bundle, String displayId) {
            stdout(textOf(bundle) + "\n");
        }

        @Override
        public void updateDisplay(String displayId, MimeBundle bundle) {
            stdout(textOf(bundle) + "\n");
        }

        private static String textOf(MimeBundle bundle) {
            String text = bundle.text();
            return text != null ? text : "<" + String.join(", ", bundle.data().keySet()) + ">";
        }
    };

    /** Where displays and streamed text go now: the running cell's output in a kernel ({@link Current#get()}). */
    static Output current() {
        return Current.output;
    }

    /** Sets where output goes (the kernel does this once at start); returns the previous one. */
    static Output setCurrent(Output newOutput) {
        Output previous = Current.output;
        Current.output = java.util.Objects.requireNonNull(newOutput);
        return previous;
    }

    /** The process-wide current output: one kernel process is one notebook. */
    final class Current {
        private static volatile Output output = SYSTEM;

        private Current() {
        }

        public static Output get() {
            return output;
        }
    }
}
