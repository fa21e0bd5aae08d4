package jmlc.engine.format.tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CancellationException;

/**
 * Maps whole model files read-only into memory segments. Files of any size work (a segment is
 * addressed by long offsets); nothing is copied to the heap. The mapping lives until its arena
 * is closed.
 */
public final class FileMapping {
    private FileMapping() {}

    /**
     * Fails unless {@code file} is a regular file (or a symbolic link to one): opening a FIFO blocks
     * until something writes to it, and a device may never end, so neither is ever opened.
     * {@code what} says what the file should be.
     */
    public static void requireRegularFile(Path file, String what) {
        if (!Files.exists(file)) throw new ModelFormatException(file, "no such file (expected " + what + ")");
        if (!Files.isRegularFile(file)) throw new ModelFormatException(file, "not a regular file but " + kind(file) + " (expected " + what + ")");
    }

    private static String kind(Path file) {
        if (Files.isDirectory(file)) return "a directory";
        try {
            var attrs = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
            return attrs.isOther() ? "a FIFO, socket or device" : "something else";
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }

    /** An interrupt that closed a channel: a stop, not a bad file (the interrupt stays set). */
    public static CancellationException interrupted(Path file, ClosedByInterruptException e) {
        CancellationException c = new CancellationException("reading " + file + " was interrupted");
        c.initCause(e);
        return c;
    }

    /**
     * What a read of a mapping whose file was cut short becomes: the JVM turns the fault (SIGBUS)
     * into {@code InternalError("a fault occurred in an unsafe memory access operation")}; that one
     * becomes a ModelFormatException naming {@code file}, any other InternalError is rethrown.
     */
    public static ModelFormatException changed(Path file, InternalError e) {
        if (e.getMessage() == null || !e.getMessage().contains("unsafe memory access")) throw e;
        return new ModelFormatException(file, "the file changed while jmlc had it mapped (cut short or rewritten): reading its data faulted."
                + " Load the model again once the file is complete", e);
    }

    /** Maps {@code file}; {@code what} says what the file should be, for the error if it is missing. */
    public static MemorySegment map(Path file, Arena arena, String what) {
        requireRegularFile(file, what);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) return MemorySegment.NULL.reinterpret(0);
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "no such file (expected " + what + ")", e);
        } catch (ClosedByInterruptException e) {
            throw interrupted(file, e);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot map " + what + ": " + e, e);
        }
    }
}
