package jmlc.engine.format.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import jmlc.engine.format.tensor.FileMapping;
import jmlc.engine.format.tensor.FloatTensor;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorEncoding;
import jmlc.engine.format.tensor.TensorView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {
    @TempDir
    Path dir;

    static float[] randoms(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    static GgufFile parse(Path f, Arena arena) {
        return GgufFile.parse(f, FileMapping.map(f, arena, "test"));
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void metadataOfEveryTypeReadsBackAsItsJavaType(int version) {
        Path f = dir.resolve("m.gguf");
        new GgufWriter(version)
                .put("u8", GgufValueType.UINT8, 200).put("i8", GgufValueType.INT8, -5)
                .put("u16", GgufValueType.UINT16, 60000).put("i16", GgufValueType.INT16, -30000)
                .putU32("u32", 4_000_000_000L).putI32("i32", -2_000_000_000)
                .putU64("u64", 1L << 40).put("i64", GgufValueType.INT64, -(1L << 40))
                .putF32("f32", 0.1).put("f64", GgufValueType.FLOAT64, Math.PI)
                .putBool("yes", true).putBool("no", false)
                .putString("s", "héllo ✓")
                .putArray("strings", GgufValueType.STRING, List.of("a", "", "<0x0A>"))
                .putArray("ints", GgufValueType.INT32, List.of(1, -2, 3))
                .putArray("empty", GgufValueType.FLOAT32, List.of())
                .putArray("nested", GgufValueType.ARRAY, List.of(
                        new GgufWriter.Array(GgufValueType.UINT8, List.of(1, 2)),
                        new GgufWriter.Array(GgufValueType.UINT8, List.of())))
                .write(f);
        try (Arena arena = Arena.ofConfined()) {
            GgufFile g = parse(f, arena);
            assertEquals(version, g.version());
            Map<String, Object> md = g.metadata();
            assertEquals(200L, md.get("u8"));
            assertEquals(-5L, md.get("i8"));
            assertEquals(60000L, md.get("u16"));
            assertEquals(-30000L, md.get("i16"));
            assertEquals(4_000_000_000L, md.get("u32"));
            assertEquals(-2_000_000_000L, md.get("i32"));
            assertEquals(1L << 40, md.get("u64"));
            assertEquals(-(1L << 40), md.get("i64"));
            assertEquals(0.1, md.get("f32"), "f32 reads back as the decimal it was written from");
            assertEquals(Math.PI, md.get("f64"));
            assertEquals(true, md.get("yes"));
            assertEquals(false, md.get("no"));
            assertEquals("héllo ✓", md.get("s"));
            assertEquals(List.of("a", "", "<0x0A>"), md.get("strings"));
            assertEquals(List.of(1L, -2L, 3L), md.get("ints"));
            assertEquals(List.of(), md.get("empty"));
            assertEquals(List.of(List.of(1L, 2L), List.of()), md.get("nested"));
            assertEquals(List.of("u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "yes", "no", "s", "strings", "ints", "empty", "nested"),
                    List.copyOf(md.keySet()), "file order");
        }
    }

    /**
     * A tensor of more than 2 GiB in a sparse GGUF file: written with one row of 8 floats, its ne[0]
     * patched and the file extended without writing (no real disk), then one float written past 2 GiB.
     */
    @Test
    void readsElementsBeyondTwoGibibytesOfASparseFile() throws IOException {
        Path f = dir.resolve("big.gguf");
        new GgufWriter().add("big", new FloatTensor("big", new long[] {8}, new float[8]), TensorDType.F32).write(f);
        long dataStart = Files.size(f) - 32; // 8 floats, padded to 32
        long n = (1L << 29) + 32, far = (1L << 29) + 5; // 2^31 + 128 bytes; element far lies past 2^31
        byte[] head = Files.readAllBytes(f);
        int ne0 = indexOf(head, "big".getBytes()) + 3 + 4; // after the name: u32 n_dims, then ne[0]
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.seek(ne0);
            r.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array());
            r.setLength(dataStart + 4 * n);
            r.seek(dataStart + 4 * far);
            r.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(3.75f).array());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = FileMapping.map(f, arena, "test");
            TensorView big = GgufFile.parse(f, bytes).views(bytes).get("big");
            assertEquals(n, big.numel());
            assertEquals(3.75f, big.getFloat(far));
            assertEquals(0f, big.getFloat(n - 1));
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        for (int i = 0; i + needle.length <= hay.length; i++)
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) return i;
        throw new AssertionError("not found");
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 64})
    void tensorsOfEveryTypeRoundTripAligned(int alignment) {
        FloatTensor f32 = new FloatTensor("a", new long[] {3, 5}, randoms(15, 1));
        FloatTensor f16 = new FloatTensor("b", new long[] {7}, randoms(7, 2));
        FloatTensor bf16 = new FloatTensor("c", new long[] {2, 2, 3}, randoms(12, 3));
        FloatTensor q8 = new FloatTensor("d", new long[] {3, 64}, randoms(192, 4));
        FloatTensor q4 = new FloatTensor("e", new long[] {2, 96}, randoms(192, 5));
        Path f = dir.resolve("t.gguf");
        new GgufWriter().alignment(alignment).putString("general.architecture", "llama")
                .add("a", f32, TensorDType.F32).add("b", f16, TensorDType.F16).add("c", bf16, TensorDType.BF16)
                .add("d", q8, TensorDType.Q8_0).add("e", q4, TensorDType.Q4_0).write(f);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = FileMapping.map(f, arena, "test");
            GgufFile g = GgufFile.parse(f, bytes);
            assertEquals(alignment, g.alignment());
            assertEquals(0, g.dataStart() % alignment);
            GgufFile.TensorInfo e = g.tensors().get(4);
            assertArrayEquals(new long[] {96, 2}, e.ne(), "ne[0] is the row length");
            assertEquals(GgmlType.Q4_0, e.type());
            for (GgufFile.TensorInfo t : g.tensors()) assertEquals(0, t.offset() % alignment, t.name());
            Map<String, TensorView> v = g.views(bytes);
            assertArrayEquals(new long[] {2, 2, 3}, v.get("c").shape());
            for (int i = 0; i < 15; i++) assertEquals(Float.floatToRawIntBits(f32.values()[i]), Float.floatToRawIntBits(v.get("a").getFloat(i)));
            for (int i = 0; i < 7; i++) assertEquals(Float.float16ToFloat(Float.floatToFloat16(f16.values()[i])), v.get("b").getFloat(i));
            for (int i = 0; i < 12; i++) assertEquals(Float.intBitsToFloat(TensorEncoding.toBf16(bf16.values()[i]) << 16), v.get("c").getFloat(i));
            // quantized tensors hold exactly the reference quantizer's blocks
            assertArrayEquals(TensorEncoding.toBytes(q8.values(), TensorDType.Q8_0), v.get("d").data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(TensorEncoding.toBytes(q4.values(), TensorDType.Q4_0), v.get("e").data().toArray(ValueLayout.JAVA_BYTE));
        }
    }
}
