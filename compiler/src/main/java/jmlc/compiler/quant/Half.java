package jmlc.compiler.quant;

/** IEEE fp16 and bfloat16 conversions (bit patterns held in shorts). */
public final class Half {
    private Half() {}

    public static float toFloat(short h) {
        return Float.float16ToFloat(h);
    }

    /** Round to nearest even. */
    public static short fromFloat(float f) {
        return Float.floatToFloat16(f);
    }

    public static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /** Round to nearest even, NaN kept a NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** The float nearest to {@code f} that fp16 can hold. */
    public static float roundToHalf(float f) {
        return toFloat(fromFloat(f));
    }

    /** Rounds the first {@code n} values of {@code v} to f16 in place (an activation stored as f16); returns {@code v}. */
    public static float[] roundToHalf(float[] v, int n) {
        for (int i = 0; i < n; i++) v[i] = roundToHalf(v[i]);
        return v;
    }
}
