package jmlc.engine.format.safetensors;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import jmlc.engine.format.tensor.FloatTensor;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorDType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each corrupt file gives one ModelFormatException naming the file and what is wrong with it. */
class SafetensorsCorruptionTest {
    @TempDir
    Path dir;

    private Path valid() {
        Path f = dir.resolve("ok.safetensors");
        new SafetensorsWriter().add(new FloatTensor("w", new long[] {4, 8}, SafetensorsTest.values(32, 1)), TensorDType.F32)
                .add(new FloatTensor("b", new long[] {8}, SafetensorsTest.values(8, 2)), TensorDType.F16).write(f);
        return f;
    }

    private static void expect(Path file, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> {
            try (Arena arena = Arena.ofConfined()) {
                SafetensorsTest.read(file, arena);
            }
        });
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
    }

    private static void truncate(Path f, long size) throws IOException {
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(size);
        }
    }

    private static void patchLong(Path f, long at, long v) throws IOException {
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.seek(at);
            r.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }
    }

    @Test
    void fileTooShortForTheLength() throws IOException {
        Path f = valid();
        truncate(f, 5);
        expect(f, "5 bytes", "too short");
    }

    @Test
    void headerCut() throws IOException {
        Path f = valid();
        truncate(f, 40);
        expect(f, "truncated", "header claims");
    }

    @Test
    void headerLengthAbsurd() throws IOException {
        Path f = valid();
        patchLong(f, 0, 1L << 40);
        expect(f, Long.toString(1L << 40), "100000000");
        patchLong(f, 0, -5);
        expect(f, Long.toUnsignedString(-5));
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        Path f = valid();
        patchLong(f, 0, Files.size(f)); // under the 100 MB limit, past the end
        expect(f, "truncated");
    }

    @Test
    void dataCut() throws IOException {
        Path f = valid();
        truncate(f, Files.size(f) - 3);
        expect(f, "tensor b", "run past the end", "truncated");
    }

    @Test
    void headerNotJson() throws IOException {
        expect(RawSafetensors.write(dir.resolve("x.safetensors"), "{\"w\": {\"dtype\": ", new byte[0]), "not valid JSON");
        expect(RawSafetensors.write(dir.resolve("y.safetensors"), "[1, 2]", new byte[0]), "not a safetensors file");
        expect(RawSafetensors.write(dir.resolve("z.safetensors"), "{} {}   ", new byte[0]), "not valid JSON", "Trailing token");
    }

    @Test
    void unsupportedDtype() throws IOException {
        Path f = RawSafetensors.write(dir.resolve("x.safetensors"), "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", new byte[16]);
        expect(f, "tensor ids", "unsupported dtype 'I64'", "F32, F16, BF16");
    }

    @Test
    void negativeOrNonIntegerShape() throws IOException {
        expect(RawSafetensors.write(dir.resolve("a.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2,2],\"data_offsets\":[0,16]}}", new byte[16]),
                "tensor w", "shape[0]", "non-negative integer", "-2");
        expect(RawSafetensors.write(dir.resolve("b.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,10]}}", new byte[10]),
                "tensor w", "shape[0]", "2.5");
        expect(RawSafetensors.write(dir.resolve("c.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor w", "shape[0]");
    }

    @Test
    void overflowingShape() throws IOException {
        Path f = RawSafetensors.write(dir.resolve("x.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,16]}}", new byte[16]);
        expect(f, "tensor w", "overflows");
    }

    @Test
    void offsetsDisagreeWithShapeTimesDtype() throws IOException {
        Path f = RawSafetensors.write(dir.resolve("x.safetensors"), "{\"w\":{\"dtype\":\"F16\",\"shape\":[3,2],\"data_offsets\":[0,24]}}", new byte[24]);
        expect(f, "tensor w", "span 24 bytes", "[3, 2] of F16 needs 12");
        Path g = RawSafetensors.write(dir.resolve("y.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", new byte[8]);
        expect(g, "tensor w", "[8, 4] end before they begin");
    }

    @Test
    void overlappingOffsets() throws IOException {
        Path f = RawSafetensors.write(dir.resolve("x.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", new byte[16]);
        expect(f, "tensors a", "and b", "overlap");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        Path f = RawSafetensors.write(dir.resolve("x.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[1000,1016]}}", new byte[16]);
        expect(f, "tensor a", "[1000, 1016]", "data section (16 bytes)");
    }

    @Test
    void malformedEntries() throws IOException {
        expect(RawSafetensors.write(dir.resolve("a.safetensors"), "{\"w\": 3}", new byte[0]), "tensor w", "expected an object");
        expect(RawSafetensors.write(dir.resolve("b.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]), "tensor w", "data_offsets");
        expect(RawSafetensors.write(dir.resolve("c.safetensors"), "{\"__metadata__\":{\"n\":3}}", new byte[0]), "__metadata__.n", "must be a string");
        expect(RawSafetensors.write(dir.resolve("d.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]),
                "not valid JSON", "Duplicate field 'w'");
    }

    // ---- issue 14: the data section must be exactly the tensors' bytes, as the reference reader requires ----

    private static final String TWO = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
            + "\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[16,24]}}";

    @Test
    void headerLengthOneByteShort() throws IOException {
        // space-padded JSON still parses one byte short; every tensor would then be read one byte early
        Path f = RawSafetensors.write(dir.resolve("x.safetensors"), TWO + "    ", new byte[24]);
        SafetensorsTest.read(f, Arena.ofAuto()); // the valid file opens
        patchLong(f, 0, TWO.length() + 3);
        expect(f, "data section", "25 bytes", "tensors' data ends at 24");
    }

    @Test
    void bytesAfterTheLastTensor() throws IOException {
        expect(RawSafetensors.write(dir.resolve("x.safetensors"), TWO, new byte[32]), "data section", "32 bytes", "tensors' data ends at 24");
    }

    @Test
    void gapsBetweenTensors() throws IOException {
        String gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[20,28]}}";
        expect(RawSafetensors.write(dir.resolve("x.safetensors"), gap, new byte[28]), "tensor b", "data_offsets [20, 28]", "begin at 16");
        String late = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[4,20]}}";
        expect(RawSafetensors.write(dir.resolve("y.safetensors"), late, new byte[20]), "tensor a", "data_offsets [4, 20]", "begin at 0");
    }

    @Test
    void notASafetensorsFileAtAll() throws IOException {
        // a text file: its first 8 bytes read as a length must not be shown as one
        Path passwd = Files.writeString(dir.resolve("passwd"), "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n");
        Path f = Files.createSymbolicLink(dir.resolve("model.safetensors"), passwd);
        long asLength = ByteBuffer.wrap(Files.readAllBytes(passwd)).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsTest.read(f, Arena.ofAuto()));
        assertTrue(e.getMessage().contains("not a safetensors file"), e.getMessage());
        assertTrue(!e.getMessage().contains(Long.toString(asLength)) && !e.getMessage().contains(Long.toUnsignedString(asLength)), e.getMessage());
        Path zip = Files.write(dir.resolve("z.safetensors"), new byte[] {'P', 'K', 3, 4, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0});
        expect(zip, "not a safetensors file");
    }
}
