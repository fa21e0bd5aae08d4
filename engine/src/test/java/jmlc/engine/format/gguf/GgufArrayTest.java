package jmlc.engine.format.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jmlc.engine.format.tensor.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Metadata arrays cost about what they take in the file, not what boxing every element costs
 * (issue 14: a 336 MB file of arrays took 160 s and 6.5 GB of heap, then ran out of memory).
 */
class GgufArrayTest {
    @TempDir
    Path dir;

    /** A GGUF file with no tensors and {@code arrays} UINT8 arrays of {@code n} elements each, every element 0xFF (sparse when {@code fill} is false: zeros). */
    static Path u8Arrays(Path f, int arrays, int n, boolean fill) throws IOException {
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            ByteBuffer h = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(GgufFile.MAGIC).putInt(3).putLong(0).putLong(arrays);
            r.write(h.array());
            byte[] elements = new byte[fill ? n : 0];
            java.util.Arrays.fill(elements, (byte) 0xFF);
            for (int a = 0; a < arrays; a++) {
                byte[] key = ("test.array" + a).getBytes(StandardCharsets.UTF_8);
                ByteBuffer kv = ByteBuffer.allocate(8 + key.length + 4 + 4 + 8).order(ByteOrder.LITTLE_ENDIAN);
                kv.putLong(key.length).put(key).putInt(GgufValueType.ARRAY.id()).putInt(GgufValueType.UINT8.id()).putLong(n);
                r.write(kv.array());
                if (fill) r.write(elements);
                else r.seek(r.getFilePointer() + n);
            }
            long end = r.getFilePointer();
            r.setLength((end + 31) / 32 * 32); // the data section starts aligned; no tensors, so it is empty
        }
        return f;
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void arraysTakeAboutTheirFileSize() throws IOException {
        int n = 1 << 24;
        Path f = u8Arrays(dir.resolve("arrays.gguf"), 2, n, true);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            try (Arena arena = Arena.ofConfined()) {
                long before = allocatedBytes();
                GgufFile g = GgufFileTest.parse(f, arena);
                long allocated = allocatedBytes() - before;
                System.out.printf("2 arrays of %d u8 elements: parsing allocated %d bytes%n", n, allocated);
                assertTrue(allocated < 3L * 2 * n, "parsing 2 arrays of " + n + " bytes allocated " + allocated + " bytes");
                List<?> a = (List<?>) g.metadata().get("test.array1");
                assertEquals(n, a.size());
                assertEquals(255L, a.get(n - 1), "elements read back as the reader's Java types");
            }
        });
    }

    @Test
    void headerMayNotClaimMoreThanTheLimitOfArrayBytes() throws IOException {
        int n = 1 << 24;
        int arrays = (int) (GgufFile.MAX_ARRAY_BYTES / n) + 1; // sparse: no disk, zeros
        Path f = u8Arrays(dir.resolve("many.gguf"), arrays, n, false);
        ModelFormatException e = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(ModelFormatException.class, () -> {
            try (Arena arena = Arena.ofConfined()) {
                GgufFileTest.parse(f, arena);
            }
        }));
        assertTrue(e.getMessage().contains("key 'test.array" + (arrays - 1) + "'") && e.getMessage().contains("limit"), e.getMessage());
    }
}
