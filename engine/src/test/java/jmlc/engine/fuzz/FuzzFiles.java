package jmlc.engine.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where fuzz inputs become files: one folder per JVM (in memory where /dev/shm exists), each input overwriting the last. */
final class FuzzFiles {
    private FuzzFiles() {}

    private static final Path DIR = make();

    private static Path make() {
        try {
            Path shm = Path.of("/dev/shm");
            Path dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "jmlc-fuzz") : Files.createTempDirectory("jmlc-fuzz");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code bytes} as the file {@code name} of the fuzz folder. */
    static Path write(String name, byte[] bytes) {
        try {
            Path f = DIR.resolve(name);
            Files.write(f, bytes);
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Readers stop with a CancellationException when their thread is interrupted, and Jazzer interrupts
     * the fuzzing thread to end a run: that is no finding. Without an interrupt it would be one.
     */
    static void stoppedByInterrupt(java.util.concurrent.CancellationException e) {
        if (!Thread.currentThread().isInterrupted()) throw new AssertionError("CancellationException without an interrupt", e);
    }

    static Path dir() {
        return DIR;
    }
}
