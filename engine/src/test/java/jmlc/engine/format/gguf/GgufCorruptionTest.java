package jmlc.engine.format.gguf;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import jmlc.engine.format.tensor.FloatTensor;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorDType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corrupt GGUF files, made from a valid one by patching the field under test (found by searching
 * for the key or tensor name before it). Each gives one ModelFormatException naming the file and
 * the field; none allocates what a corrupt count claims.
 */
class GgufCorruptionTest {
    @TempDir
    Path dir;

    private Path file;
    private byte[] bytes;

    /** Keys "test.aaaa" and "test.bbbb", an array "test.arr", tensors "first" (Q8_0 [2, 32]) and "second" (F32 [8]). */
    private void valid() throws IOException {
        file = dir.resolve("m.gguf");
        new GgufWriter().putString("test.aaaa", "x").putU32("test.bbbb", 7).putArray("test.arr", GgufValueType.INT32, List.of(1, 2, 3))
                .add("first", new FloatTensor("first", new long[] {2, 32}, GgufFileTest.randoms(64, 1)), TensorDType.Q8_0)
                .add("second", new FloatTensor("second", new long[] {8}, GgufFileTest.randoms(8, 2)), TensorDType.F32)
                .write(file);
        bytes = Files.readAllBytes(file);
    }

    /** Offset just past the first occurrence of {@code s} (a key or tensor name). */
    private int after(String s) {
        byte[] needle = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + needle.length <= bytes.length; i++)
            if (Arrays.equals(bytes, i, i + needle.length, needle, 0, needle.length)) return i + needle.length;
        throw new AssertionError(s + " not in file");
    }

    private void patch(int at, long v, int size) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (size == 4) b.putInt(at, (int) v);
        else b.putLong(at, v);
        Files.write(file, bytes);
    }

    private void expect(String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> {
            try (Arena arena = Arena.ofConfined()) {
                GgufFileTest.parse(file, arena);
            }
        });
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
    }

    @Test
    void notGguf() throws IOException {
        file = Files.write(dir.resolve("x.gguf"), "PK\3\4 zip".getBytes(StandardCharsets.ISO_8859_1));
        expect("not a GGUF file", "\"PK\\x03\\x04\"");
        file = Files.write(dir.resolve("y.gguf"), new byte[] {'G', 'G'});
        expect("2 bytes", "too short");
    }

    @Test
    void versions() throws IOException {
        valid();
        patch(4, 1, 4);
        expect("version 1 is not supported");
        patch(4, Integer.reverseBytes(3), 4);
        expect("big-endian");
        patch(4, 7, 4);
        expect("version 7", "expected 2 or 3");
    }

    @Test
    void headerCut() throws IOException {
        valid();
        Files.write(file, Arrays.copyOf(bytes, 20));
        expect("truncated", "metadata_kv_count");
        Files.write(file, Arrays.copyOf(bytes, after("test.bbbb") + 2));
        expect("truncated", "type of key 'test.bbbb'");
    }

    @Test
    void absurdCounts() throws IOException {
        valid();
        patch(16, 1L << 40, 8);
        expect("metadata_kv_count is " + (1L << 40), "hold at most");
        valid();
        patch(8, 1L << 40, 8);
        expect("tensor_count is " + (1L << 40));
        valid();
        patch(8, -1, 8);
        expect("tensor_count", "18446744073709551615");
    }

    @Test
    void absurdStringLengths() throws IOException {
        valid();
        patch(after("test.aaaa") + 4, 1L << 50, 8); // the value string's length
        expect("key 'test.aaaa'", "string length " + (1L << 50), "limit");
        valid();
        patch(after("test.aaaa") + 4, 1_000_000, 8);
        expect("truncated", "key 'test.aaaa'", "1000000-byte string");
    }

    @Test
    void absurdArrayLengths() throws IOException {
        valid();
        int count = after("test.arr") + 4 + 4; // value type, element type, then the u64 count
        patch(count, 1L << 40, 8);
        expect("key 'test.arr'", "array of " + (1L << 40), "limit");
        patch(count, 1_000_000, 8);
        expect("truncated", "key 'test.arr'", "1000000 INT32 values");
    }

    @Test
    void unknownValueType() throws IOException {
        valid();
        patch(after("test.bbbb"), 99, 4);
        expect("key 'test.bbbb'", "unknown value type 99");
    }

    @Test
    void duplicateKey() throws IOException {
        valid();
        System.arraycopy("aaaa".getBytes(StandardCharsets.UTF_8), 0, bytes, after("test.bbbb") - 4, 4);
        Files.write(file, bytes);
        expect("duplicate metadata key 'test.aaaa'");
    }

    @Test
    void tooManyDimensions() throws IOException {
        valid();
        patch(after("first"), 5, 4);
        expect("tensor first", "n_dims is 5");
    }

    @Test
    void unsupportedTensorTypes() throws IOException {
        valid();
        int type = after("first") + 4 + 2 * 8;
        patch(type, 12, 4);
        expect("tensor first", "unsupported ggml type Q4_K (id 12)", "F32, F16, Q4_0, Q8_0, BF16");
        patch(type, 99, 4);
        expect("tensor first", "unsupported ggml type id 99");
    }

    @Test
    void rowsNotAWholeNumberOfBlocks() throws IOException {
        valid();
        patch(after("first") + 4, 16, 8); // ne[0] = 16 values of Q8_0
        expect("tensor first", "16 values", "Q8_0 blocks of 32");
    }

    @Test
    void overflowingDimensions() throws IOException {
        valid();
        int ne = after("first") + 4;
        patch(ne, 1L << 40, 8);
        patch(ne + 8, 1L << 40, 8);
        expect("tensor first", "overflow");
    }

    @Test
    void dataCut() throws IOException {
        valid();
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 4));
        expect("tensor second", "runs past the end of the file", "truncated");
    }

    /** Fuzzing found it (GgufFuzzTestInputs/gguf/fuzz-data-section-past-the-end.gguf): a tensor of no bytes passed every extent check, then its view began past the end. */
    @Test
    void dataSectionStartingPastTheEnd() throws IOException {
        file = dir.resolve("e.gguf");
        new GgufWriter().add("empty", new FloatTensor("empty", new long[] {0}, new float[0]), TensorDType.F32).write(file);
        bytes = Files.readAllBytes(file);
        int headerEnd = after("empty") + 4 + 8 + 4 + 8; // n_dims, one dimension, type, offset
        Files.write(file, Arrays.copyOf(bytes, headerEnd + 1)); // the padding to the alignment cut short
        int dataStart = (headerEnd + 31) / 32 * 32; // the default alignment
        expect("data section starts at byte " + dataStart, "tensor infos end at " + headerEnd, "past the end of the file (" + (headerEnd + 1) + " bytes)", "truncated");
    }

    @Test
    void misalignedAndOverlappingOffsets() throws IOException {
        valid();
        int offset = after("second") + 4 + 8 + 4;
        patch(offset, 4, 8);
        expect("tensor second", "offset 4", "alignment 32");
        patch(offset, 0, 8);
        expect("tensor second", "offset 0, expected 96");
        patch(offset, 1L << 40, 8);
        expect("tensor second", "runs past the end");
    }

    @Test
    void alignmentNotAPowerOfTwo() throws IOException {
        file = dir.resolve("a.gguf");
        new GgufWriter().putU32("general.alignment", 48).write(file);
        expect("general.alignment", "power of two", "48");
    }

    @Test
    void badBool() throws IOException {
        file = dir.resolve("b.gguf");
        new GgufWriter().putBool("test.flag", true).write(file);
        bytes = Files.readAllBytes(file);
        bytes[after("test.flag") + 4] = 2;
        Files.write(file, bytes);
        expect("key 'test.flag'", "bool byte is 2");
    }

    // ---- issue 14: offsets are the running, aligned sum of the sizes (as ggml's reader requires), and the data section ends with the last tensor ----

    @Test
    void tensorTypeShrunk() throws IOException {
        valid();
        patch(after("first") + 4 + 2 * 8, GgmlType.Q4_0.id(), 4); // Q8_0 [2, 32]: 68 bytes; as Q4_0: 36
        expect("tensor first", "padding", "not zero", "type or shape is wrong");
        patch(after("first") + 4 + 2 * 8, GgmlType.F16.id(), 4); // 64 values of F16 are 128 bytes: "second" would follow at 128
        expect("tensor second", "offset 96, expected 128");
    }

    @Test
    void lastTensorTypeShrunk() throws IOException {
        valid();
        patch(after("second") + 4 + 8, GgmlType.F16.id(), 4); // F32 [8]: 32 bytes; as F16: 16, and padding to 32 hides the change
        expect("tensor second", "padding", "not zero");
    }

    @Test
    void tensorCountOneShort() throws IOException {
        valid();
        patch(8, 1, 8); // "second" is left out, its tensor info read as padding
        expect("tensor_count");
    }

    @Test
    void bytesAfterTheLastTensor() throws IOException {
        valid();
        Files.write(file, Arrays.copyOf(bytes, bytes.length + 64));
        expect("data section", "ends at");
    }

    @Test
    void alignmentChangedWithoutMovingTheData() throws IOException {
        file = dir.resolve("m.gguf");
        new GgufWriter().alignment(64).putString("test.aaaa", "x")
                .add("first", new FloatTensor("first", new long[] {2, 32}, GgufFileTest.randoms(64, 1)), TensorDType.Q8_0)
                .add("second", new FloatTensor("second", new long[] {8}, GgufFileTest.randoms(8, 2)), TensorDType.F32)
                .write(file);
        bytes = Files.readAllBytes(file);
        try (Arena arena = Arena.ofConfined()) {
            GgufFileTest.parse(file, arena); // valid as written
        }
        int value = after("general.alignment") + 4;
        patch(value, 32, 4);
        expect("tensor second", "offset 128, expected 96");
        patch(value, 128, 4);
        expect();
    }
}
