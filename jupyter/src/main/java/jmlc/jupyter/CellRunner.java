package jmlc.jupyter;

import jmlc.magics.core.Cell;
import jmlc.magics.core.DeferredInterrupt;
import jmlc.magics.core.DisplayHandle;
import jmlc.magics.core.JavaValue;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MagicRegistry;
import jmlc.magics.core.MimeBundle;
import jmlc.magics.core.Output;
import jmlc.magics.core.Session;
import jmlc.magics.core.Shell;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a notebook cell: its Java parts through {@link JavaShell}, its magics through the
 * {@link MagicRegistry}, in order, stopping at the first failure, which comes out as a
 * {@link CellError}. The result is the last part's value. Interrupts reach whichever is running:
 * JShell's stop for Java, a thread interrupt for a magic. Knows nothing of Jupyter.
 */
public final class CellRunner implements Shell {

    private final JavaShell java;
    private final MagicRegistry magics;
    private final Session session;
    private final Output output;

    private volatile Thread runner;
    private volatile boolean interruptRequested;
    /** Counts cells, so that an interrupt deferred past class initialisation never reaches a later cell. */
    private volatile long cellNumber;
    private final AtomicInteger inJava = new AtomicInteger();

    public CellRunner(JavaShell java, MagicRegistry magics, Session session, Output output) {
        this.java = java;
        this.magics = magics;
        this.session = session;
        this.output = output;
    }

    public JavaShell java() {
        return java;
    }

    public MagicRegistry magics() {
        return magics;
    }

    /**
     * Runs a whole cell on the calling thread and returns what to show as its result, if anything.
     *
     * @throws CellError whatever went wrong, in words for the user; the session keeps its state
     */
    public Optional<MimeBundle> runCell(String cell) {
        interruptRequested = false;
        java.clearStop();
        cellNumber++;
        Thread.interrupted(); // a stale interrupt from an earlier cell
        runner = Thread.currentThread();
        try {
            return resultBundle(run(cell));
        } finally {
            runner = null;
            Thread.interrupted();
        }
    }

    /** What a cell's (or magic's) result shows: nothing for null and for display handles. */
    public static Optional<MimeBundle> resultBundle(Object result) {
        return switch (result) {
            case null -> Optional.empty();
            case DisplayHandle h -> Optional.empty();
            case JavaValue v when v.object() instanceof DisplayHandle -> Optional.empty();
            default -> Optional.of(MimeBundle.from(result));
        };
    }

    /** Runs cell text (also for magics such as %time); returns the last part's value. */
    @Override
    public Object run(String cell) {
        Object last = null;
        List<Cell.Part> parts;
        try {
            parts = Cell.parse(cell);
        } catch (MagicException e) {
            throw magicError(e);
        }
        for (Cell.Part part : parts) {
            if (interruptRequested) throw interrupted();
            last = switch (part) {
                case Cell.Java(String code, int line) -> runJava(code, line);
                case Cell.LineMagic m -> runMagic(part, "%" + m.name());
                case Cell.CellMagic m -> runMagic(part, "%%" + m.name());
            };
        }
        return last;
    }

    private JavaValue runJava(String code, int line) {
        inJava.incrementAndGet();
        try {
            return java.eval(code, line);
        } finally {
            inJava.decrementAndGet();
        }
    }

    private Object runMagic(Cell.Part part, String spelled) {
        try {
            return magics.run(part, session, output, this);
        } catch (CellError e) {
            throw e;
        } catch (MagicException.HelpRequested help) {
            output.stdout(help.getMessage() + "\n");
            return null;
        } catch (MagicException e) {
            throw magicError(e);
        } catch (InterruptedException e) {
            throw interrupted();
        } catch (Exception | LinkageError | AssertionError e) {
            if (interruptRequested && e.getCause() instanceof InterruptedException) throw interrupted();
            throw exceptionError(e, spelled);
        }
    }

    /**
     * Stops the running cell (from another thread); the session's state stays. A magic's thread is
     * interrupted outside class initialisation only ({@link DeferredInterrupt}).
     */
    public void interrupt() {
        interruptRequested = true;
        java.stop();
        Thread thread = runner;
        long cell = cellNumber;
        if (thread != null && inJava.get() == 0) DeferredInterrupt.interrupt(thread, () -> runner == thread && cellNumber == cell);
    }

    @Override
    public List<String> classpath() {
        return java.classpath();
    }

    @Override
    public void addToClasspath(String path) {
        java.addToClasspath(path);
    }

    // ---- errors -----------------------------------------------------------------------------

    static CellError interrupted() {
        return new CellError("Interrupted", "the cell was interrupted", List.of("Interrupted: the cell was stopped by the user."));
    }

    static CellError magicError(MagicException e) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        return new CellError("MagicError", message.lines().findFirst().orElse(""), message.lines().toList());
    }

    private static final int MAX_FRAMES = 12;

    /** An unexpected exception from a magic: its message and the frames down to the magic dispatcher. */
    static CellError exceptionError(Throwable e, String where) {
        var traceback = new ArrayList<String>();
        traceback.add("Error in " + where + ":");
        String prefix = "";
        for (Throwable t = e; t != null; t = t.getCause()) {
            traceback.add(prefix + t);
            StackTraceElement[] frames = t.getStackTrace();
            int shown = 0;
            for (StackTraceElement f : frames) {
                if (f.getClassName().equals(MagicRegistry.class.getName()) || shown == MAX_FRAMES) break;
                traceback.add("    at " + f);
                shown++;
            }
            if (shown < frames.length && shown == MAX_FRAMES) traceback.add("    ...");
            prefix = "Caused by: ";
            if (t.getCause() == t) break;
        }
        String message = e.getMessage() == null ? "" : e.getMessage();
        return new CellError(e.getClass().getName(), message, traceback);
    }
}
