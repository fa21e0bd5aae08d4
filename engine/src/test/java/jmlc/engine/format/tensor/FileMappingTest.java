package jmlc.engine.format.tensor;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model file cut short while mapped: the fault its reads raise names the file (issue 14). */
class FileMappingTest {
    @TempDir
    Path dir;

    @Test
    void aReadOfAFileCutShortBecomesAModelFormatException() throws Exception {
        Path f = Files.write(dir.resolve("w.bin"), new byte[1 << 20]);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment m = FileMapping.map(f, arena, "weights");
            try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
                r.setLength(4096);
            }
            InternalError fault = assertThrows(InternalError.class, () -> m.get(ValueLayout.JAVA_BYTE, (1 << 20) - 1));
            ModelFormatException e = FileMapping.changed(f, fault);
            assertTrue(e.getMessage().startsWith(f + ": the file changed while jmlc had it mapped"), e.getMessage());
        }
        InternalError other = new InternalError("something else");
        assertSame(other, assertThrows(InternalError.class, () -> FileMapping.changed(f, other)), "other internal errors pass through");
    }
}
