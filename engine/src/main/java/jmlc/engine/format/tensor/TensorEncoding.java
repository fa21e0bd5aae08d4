package jmlc.engine.format.tensor;

import java.lang.foreign.MemorySegment;

/** Encodes heap floats into the on-disk bytes of a {@link TensorDType} (little-endian). */
public final class TensorEncoding {
    private TensorEncoding() {}

    /**
     * Writes {@code src} as {@code dtype} into {@code dst} (which must hold {@code dtype.byteSize(src.length)}
     * bytes). F16 and BF16 round to nearest even; Q4_0 and Q8_0 quantize consecutive blocks of
     * 32 values, so each row's length must be a multiple of 32 for blocks to stay within rows.
     */
    public static void encode(float[] src, TensorDType dtype, MemorySegment dst) {
        long need = dtype.byteSize(src.length);
        if (need < 0) throw new IllegalArgumentException(src.length + " values are not a whole number of " + dtype + " blocks");
        if (dst.byteSize() != need) throw new IllegalArgumentException(src.length + " " + dtype + " values take " + need + " bytes, buffer has " + dst.byteSize());
        switch (dtype) {
            case F32 -> MemorySegment.copy(src, 0, dst, TensorView.F32_LE, 0, src.length);
            case F16 -> { for (int i = 0; i < src.length; i++) dst.set(TensorView.I16_LE, 2L * i, Float.floatToFloat16(src[i])); }
            case BF16 -> { for (int i = 0; i < src.length; i++) dst.set(TensorView.I16_LE, 2L * i, toBf16(src[i])); }
            case Q4_0 -> { for (int b = 0; b < src.length / 32; b++) BlockQuantizer.q4_0(src, 32 * b, dst, 18L * b); }
            case Q8_0 -> { for (int b = 0; b < src.length / 32; b++) BlockQuantizer.q8_0(src, 32 * b, dst, 34L * b); }
        }
    }

    /** Float to bfloat16 bits, round to nearest even (as PyTorch converts); NaN stays a quiet NaN. */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** A fresh little-endian byte array of {@code src} encoded as {@code dtype}. */
    public static byte[] toBytes(float[] src, TensorDType dtype) {
        long n = dtype.byteSize(src.length);
        if (n < 0) throw new IllegalArgumentException(src.length + " values are not a whole number of " + dtype + " blocks");
        byte[] out = new byte[Math.toIntExact(n)];
        encode(src, dtype, MemorySegment.ofArray(out));
        return out;
    }
}
