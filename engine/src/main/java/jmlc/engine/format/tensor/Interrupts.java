package jmlc.engine.format.tensor;

import java.nio.file.Path;
import java.util.concurrent.CancellationException;

/**
 * Stops long loops over model files when their thread is interrupted: the notebook's stop button
 * interrupts the thread that runs a cell or a magic's work, and a load must end within a second of
 * it, whatever file it is reading. The interrupt stays set, for the caller to see.
 */
public final class Interrupts {
    private Interrupts() {}

    /** Throws {@link CancellationException} if this thread has been interrupted; {@code doing} says what stopped. */
    public static void check(Path file, String doing) {
        if (Thread.currentThread().isInterrupted())
            throw new CancellationException(doing + (file == null ? "" : " " + file) + " was interrupted");
    }
}
