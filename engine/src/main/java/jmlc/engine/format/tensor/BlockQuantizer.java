package jmlc.engine.format.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * ggml's reference quantizers for the block types of {@link TensorDType}, bit for bit
 * ({@code quantize_row_q4_0_ref} and {@code quantize_row_q8_0_ref} in ggml/src/ggml-quants.c,
 * "reference implementation for deterministic creation of model files"). The scale is computed
 * in float, stored as f16 (round to nearest even, like {@code GGML_FP32_TO_FP16}); the values are
 * quantized with the float scale's reciprocal, before its rounding to f16, as ggml does.
 */
public final class BlockQuantizer {
    private BlockQuantizer() {}

    /**
     * Q4_0 block of {@code src[from .. from+32)} into 18 bytes at {@code dst[at]}:
     * {@code d = max / -8} where {@code max} is the value of largest magnitude (first one on ties);
     * {@code q = min(15, (int8) (x/d + 8.5))}; low nibbles hold values 0..15, high nibbles 16..31.
     */
    public static void q4_0(float[] src, int from, MemorySegment dst, long at) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = src[from + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        dst.set(TensorView.I16_LE, at, Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            // C's (int8_t) conversion truncates toward zero, as Java's (int) cast does; the
            // argument lies in [0.5, 16.5] for finite inputs.
            int q0 = Math.min(15, (int) (src[from + j] * id + 8.5f));
            int q1 = Math.min(15, (int) (src[from + 16 + j] * id + 8.5f));
            dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (q0 | q1 << 4));
        }
    }

    /**
     * Q8_0 block of {@code src[from .. from+32)} into 34 bytes at {@code dst[at]}:
     * {@code d = amax / 127}, {@code q = roundf(x / d)} (halves away from zero).
     */
    public static void q8_0(float[] src, int from, MemorySegment dst, long at) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(src[from + j]));
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        dst.set(TensorView.I16_LE, at, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) roundf(src[from + j] * id));
    }

    /** C's {@code roundf}: nearest integer, halves away from zero (Java's Math.round rounds them up). */
    static int roundf(float x) {
        double r = Math.floor(Math.abs((double) x) + 0.5);
        return (int) Math.copySign(r, x);
    }
}
