package jmlc.compiler.quant;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.QuantScheme;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Packs float weights into a {@link QuantScheme}'s layout and unpacks them: the one definition
 * of the stored formats that loaders, kernels and tests share.
 *
 * <p>Per group of {@code g} values along a row: {@code scale = max|w| / qmax} stored in the scale
 * type ({@code qmax} = 7 for 4-bit, 127 for 8-bit), then {@code q = clamp(round(w / scale) + zero)}
 * with the stored scale, as MLC's group quantization does. A group of zeros gets scale 0.
 */
public final class GroupQuantizer {
    private GroupQuantizer() {}

    public static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Quantizes one row of {@code cols} values (row index {@code row}) into {@code data} and {@code scales}. */
    public static void quantizeRow(QuantScheme s, float[] w, long row, int cols, MemorySegment data, MemorySegment scales) {
        checkCols(s, cols);
        int groups = cols / s.groupSize();
        int qmax = s.bits() == 4 ? 7 : 127;
        int lo = s.bits() == 4 ? 0 : -127, hi = s.bits() == 4 ? 15 : 127;
        int[] q = new int[s.groupSize()];
        for (int gi = 0; gi < groups; gi++) {
            int base = gi * s.groupSize();
            float maxAbs = 0;
            for (int i = 0; i < s.groupSize(); i++) maxAbs = Math.max(maxAbs, Math.abs(w[base + i]));
            float scale = storeScale(s, scales, row * groups + gi, maxAbs / qmax);
            for (int i = 0; i < s.groupSize(); i++) {
                int v = scale == 0 ? s.zero() : Math.round(w[base + i] / scale) + s.zero();
                q[i] = Math.max(lo, Math.min(hi, v));
            }
            if (s.bits() == 4) {
                long word = (row * cols + base) / 8;
                for (int j = 0; j < s.groupSize(); j += 8) {
                    int packed = 0;
                    for (int k = 0; k < 8; k++) packed |= q[j + k] << (4 * k);
                    data.setAtIndex(U32, word + j / 8, packed);
                }
            } else {
                for (int i = 0; i < s.groupSize(); i++) data.set(ValueLayout.JAVA_BYTE, row * cols + base + i, (byte) q[i]);
            }
        }
    }

    /** Unpacks row {@code row} into {@code out[0 .. cols)}. */
    public static void dequantizeRow(QuantScheme s, MemorySegment data, MemorySegment scales, long row, int cols, float[] out) {
        checkCols(s, cols);
        int groups = cols / s.groupSize();
        for (int c = 0; c < cols; c++) {
            float scale = scale(s, scales, row * groups + c / s.groupSize());
            out[c] = (quantAt(s, data, row * cols + c) - s.zero()) * scale;
        }
    }

    /** The stored integer of element {@code index} (row-major over the whole weight), before subtracting zero. */
    public static int quantAt(QuantScheme s, MemorySegment data, long index) {
        if (s.bits() == 4) return (data.getAtIndex(U32, index / 8) >>> (4 * (int) (index % 8))) & 0xF;
        return data.get(ValueLayout.JAVA_BYTE, index);
    }

    /** Scale number {@code index} (row-major over {@code [rows, cols/groupSize]}). */
    public static float scale(QuantScheme s, MemorySegment scales, long index) {
        return s.scaleType() == DType.F16 ? Half.toFloat(scales.getAtIndex(F16, index)) : scales.getAtIndex(F32, index);
    }

    private static float storeScale(QuantScheme s, MemorySegment scales, long index, float scale) {
        if (s.scaleType() == DType.F16) {
            short h = Half.fromFloat(scale);
            scales.setAtIndex(F16, index, h);
            return Half.toFloat(h);
        }
        scales.setAtIndex(F32, index, scale);
        return scale;
    }

    private static void checkCols(QuantScheme s, int cols) {
        if (cols % s.groupSize() != 0)
            throw new IllegalArgumentException("a row of " + cols + " values does not split into groups of " + s.groupSize() + " for " + s);
    }
}
