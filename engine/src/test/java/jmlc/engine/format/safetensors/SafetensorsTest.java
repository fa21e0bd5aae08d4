package jmlc.engine.format.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import jmlc.engine.format.tensor.FileMapping;
import jmlc.engine.format.tensor.FloatTensor;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorEncoding;
import jmlc.engine.format.tensor.TensorView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Random normals plus values the conversions must get right: signed zero, infinities, f16 subnormals and overflow. */
    static float[] values(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rng.nextGaussian();
        float[] special = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-6f, -3e-8f, 70000f, 65504f, 1f + 0x1p-11f};
        System.arraycopy(special, 0, v, 0, Math.min(n, special.length));
        return v;
    }

    static Map<String, TensorView> read(Path file, Arena arena) {
        MemorySegment bytes = FileMapping.map(file, arena, "test file");
        return SafetensorsHeader.parse(file, bytes).views(bytes);
    }

    @Test
    void roundTripKeepsTheStoredBitsOfEachDtype() {
        FloatTensor a = new FloatTensor("a", new long[] {3, 5}, values(15, 1));
        FloatTensor b = new FloatTensor("b.weight", new long[] {7}, values(7, 2));
        FloatTensor c = new FloatTensor("c", new long[] {2, 3, 4}, values(24, 3));
        Path file = dir.resolve("m.safetensors");
        new SafetensorsWriter().metadata("format", "pt").add(a, TensorDType.F32).add(b, TensorDType.F16).add(c, TensorDType.BF16).write(file);

        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = FileMapping.map(file, arena, "test file");
            SafetensorsHeader h = SafetensorsHeader.parse(file, bytes);
            assertEquals(Map.of("format", "pt"), h.metadata());
            assertEquals(0, h.dataStart() % 8, "header padded to 8 bytes");
            Map<String, TensorView> t = h.views(bytes);
            assertEquals(List.of("a", "b.weight", "c"), new ArrayList<>(t.keySet()));
            assertArrayEquals(new long[] {2, 3, 4}, t.get("c").shape());
            for (int i = 0; i < 15; i++) {
                assertEquals(Float.floatToRawIntBits(a.values()[i]), t.get("a").data().get(I32, 4L * i));
                assertEquals(Float.floatToRawIntBits(a.values()[i]), Float.floatToRawIntBits(t.get("a").getFloat(i)));
            }
            for (int i = 0; i < 7; i++) {
                short want = Float.floatToFloat16(b.values()[i]);
                assertEquals(want, t.get("b.weight").data().get(I16, 2L * i));
                assertEquals(Float.floatToRawIntBits(Float.float16ToFloat(want)), Float.floatToRawIntBits(t.get("b.weight").getFloat(i)));
            }
            for (int i = 0; i < 24; i++) {
                short want = TensorEncoding.toBf16(c.values()[i]);
                assertEquals(want, t.get("c").data().get(I16, 2L * i));
                assertEquals(Float.intBitsToFloat(want << 16), t.get("c").getFloat(i));
            }
        }
    }

    @Test
    void shardedWriteSplitsTensorsAndIndexesEveryOne() throws IOException {
        List<FloatTensor> ts = new ArrayList<>();
        for (int i = 0; i < 7; i++) ts.add(new FloatTensor("t" + i, new long[] {i + 1, 4}, values(4 * (i + 1), i)));
        Path index = SafetensorsWriter.writeSharded(dir, ts, TensorDType.F32, 3);

        JsonNode root = new ObjectMapper().readTree(index.toFile());
        long total = ts.stream().mapToLong(t -> 4L * t.values().length).sum();
        assertEquals(total, root.get("metadata").get("total_size").asLong());
        Map<String, List<String>> byShard = new LinkedHashMap<>();
        root.get("weight_map").properties().forEach(e -> byShard.computeIfAbsent(e.getValue().asText(), k -> new ArrayList<>()).add(e.getKey()));
        assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"),
                new ArrayList<>(byShard.keySet()));
        try (Arena arena = Arena.ofConfined()) {
            int seen = 0;
            for (var e : byShard.entrySet()) {
                Map<String, TensorView> views = read(dir.resolve(e.getKey()), arena);
                assertEquals(e.getValue(), new ArrayList<>(views.keySet()), "shard " + e.getKey() + " holds what the index says");
                for (String name : e.getValue()) {
                    FloatTensor want = ts.get(Integer.parseInt(name.substring(1)));
                    for (int i = 0; i < want.values().length; i++) assertEquals(want.values()[i], views.get(name).getFloat(i));
                    seen++;
                }
            }
            assertEquals(ts.size(), seen);
        }
        assertTrue(Files.exists(dir.resolve("model-00003-of-00003.safetensors")));
    }

    /**
     * A tensor spanning more than 2 GiB, in a sparse file: only the header and two floats are
     * written (by positioning the channel), so the test takes no real disk; the reader must reach
     * an element beyond the 2 GiB offset through the mapping.
     */
    @Test
    void readsElementsBeyondTwoGibibytesOfASparseFile() throws IOException {
        long cols = (1L << 28) + 16, rows = 2; // 2 × (2^28 + 16) f32 = 2^31 + 128 bytes
        long bytes = rows * cols * 4;
        String json = "{\"big\":{\"dtype\":\"F32\",\"shape\":[" + rows + "," + cols + "],\"data_offsets\":[0," + bytes + "]}}";
        Path file = RawSafetensors.write(dir.resolve("big.safetensors"), json, new byte[0]);
        long dataStart = Files.size(file);
        long far = (1L << 29) + 7; // element index whose byte offset 4·far is past 2^31
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, 42.5f), dataStart + 4 * far);
            ch.write(java.nio.ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, -1.25f), dataStart + bytes - 4);
        }
        assertEquals(dataStart + bytes, Files.size(file));
        try (Arena arena = Arena.ofConfined()) {
            TensorView big = read(file, arena).get("big");
            assertTrue(4 * far > Integer.MAX_VALUE);
            assertEquals(42.5f, big.getFloat(far));
            assertEquals(-1.25f, big.getFloat(rows * cols - 1));
            assertEquals(0f, big.getFloat(far + 1));
        }
    }
}
