package jmlc.engine.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorView;

class TensorViewTest {
    private static final Path FILE = Path.of("test.bin");

    private static TensorView view(TensorDType dt, long[] shape, ByteBuffer bytes) {
        return new TensorView("t", dt, shape, MemorySegment.ofArray(bytes.array()), FILE);
    }

    @Test
    void readsPlainFloatTypesLittleEndian() {
        ByteBuffer f32 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2.25f);
        assertEquals(-2.25f, view(TensorDType.F32, new long[] {2}, f32).getFloat(1));

        ByteBuffer f16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3C00).putShort((short) 0xC100); // 1.0, -2.5
        assertEquals(1.0f, view(TensorDType.F16, new long[] {2}, f16).getFloat(0));
        assertEquals(-2.5f, view(TensorDType.F16, new long[] {2}, f16).getFloat(1));

        ByteBuffer bf16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3FC0).putShort((short) 0xC020); // 1.5, -2.5
        assertEquals(1.5f, view(TensorDType.BF16, new long[] {2}, bf16).getFloat(0));
        assertEquals(-2.5f, view(TensorDType.BF16, new long[] {2}, bf16).getFloat(1));
    }

    /** ggml's block_q4_0: value j in the low nibble of qs[j], value j+16 in its high nibble, minus 8, times d. */
    @Test
    void readsQ4_0NibbleOrder() {
        ByteBuffer b = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(Float.floatToFloat16(0.5f));
        for (int j = 0; j < 16; j++) b.put((byte) ((j & 0xF) | ((15 - j) << 4)));
        TensorView t = view(TensorDType.Q4_0, new long[] {1, 32}, b);
        for (int j = 0; j < 16; j++) {
            assertEquals((j - 8) * 0.5f, t.getFloat(j), "low nibble of byte " + j);
            assertEquals((15 - j - 8) * 0.5f, t.getFloat(16 + j), "high nibble of byte " + j);
        }
    }

    @Test
    void readsQ8_0SignedValues() {
        ByteBuffer b = ByteBuffer.allocate(68).order(ByteOrder.LITTLE_ENDIAN);
        for (int blk = 0; blk < 2; blk++) {
            b.putShort(Float.floatToFloat16(blk == 0 ? 0.25f : -1f));
            for (int j = 0; j < 32; j++) b.put((byte) (j * 8 - 128));
        }
        TensorView t = view(TensorDType.Q8_0, new long[] {64}, b);
        assertEquals(-128 * 0.25f, t.getFloat(0));
        assertEquals((31 * 8 - 128) * 0.25f, t.getFloat(31));
        assertEquals((5 * 8 - 128) * -1f, t.getFloat(37));
    }

    @Test
    void rejectsViewsOfTheWrongSizeOrBlockShape() {
        assertThrows(IllegalArgumentException.class, () -> view(TensorDType.F32, new long[] {3}, ByteBuffer.allocate(8)));
        assertThrows(IllegalArgumentException.class, () -> view(TensorDType.Q8_0, new long[] {2, 16}, ByteBuffer.allocate(34)));
        assertThrows(IndexOutOfBoundsException.class, () -> view(TensorDType.F32, new long[] {2}, ByteBuffer.allocate(8)).getFloat(2));
    }

    @Test
    void numelReportsOverflowAndNegativeDimensions() {
        assertEquals(24, TensorView.numel(new long[] {2, 3, 4}));
        assertEquals(1, TensorView.numel(new long[] {}));
        assertEquals(-1, TensorView.numel(new long[] {1L << 40, 1L << 40}));
        assertEquals(-1, TensorView.numel(new long[] {4, -1}));
    }
}
