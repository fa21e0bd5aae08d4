package jmlc.magics;

import java.util.Objects;

/**
 * What magics and cell code share, reachable from both as statics: the {@link Session} (the loaded
 * model, later) and the {@link Output} of the cell now running. In a notebook:
 *
 * <pre>{@code
 * import jmlc.magics.*;                   // the kernel imports this for every cell
 * Jmlc.session().put(Session.Key.of("answer", Integer.class), 42);
 * }</pre>
 *
 * One kernel process is one notebook, so one session per JVM is enough.
 */
public final class Jmlc {

    private static final Session SESSION = new Session();
    private static volatile Output output = Output.SYSTEM;

    private Jmlc() {
    }

    /** The notebook's shared state. */
    public static Session session() {
        return SESSION;
    }

    /** Where displays and streamed text go now: the running cell's output in a kernel. */
    public static Output output() {
        return output;
    }

    /** Sets where output goes (the kernel does this once at start); returns the previous one. */
    public static Output setOutput(Output newOutput) {
        Output previous = output;
        output = Objects.requireNonNull(newOutput);
        return previous;
    }
}
