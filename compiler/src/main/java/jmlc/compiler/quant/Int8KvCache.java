package jmlc.compiler.quant;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.TensorType;

import java.lang.foreign.MemorySegment;

/**
 * The int8 KV cache ({@code --kv-cache i8}): a cache state of type {@code i8 [nKv, ctx, hd]} is one
 * buffer holding
 * <ul>
 *   <li>the values, signed bytes {@code [nKv, ctx, hd]} from byte 0 (position {@code p} of head
 *       {@code h} at element {@code (h·ctx + p)·hd}, as the f16 and f32 caches), and
 *   <li>the scales, f16 {@code [nKv, ctx, hd / group]} from byte {@link #scaleOffset} (the values'
 *       size rounded up to 16), one per {@link #group} consecutive elements of a row.
 * </ul>
 * A group of x is stored as {@code s = f16(max|x| · (1/127))} and {@code q = clamp(trunc(x · (1/s) ± 0.5),
 * −127, 127)} (rounded half away from zero; all zero when {@code s} is 0), read back as {@code q · s}:
 * llama.cpp's q8_0 KV cache, about half the bytes of an f16 cache. Every backend quantizes by
 * these formulas; this class is their reference and the host's encoder.
 */
public final class Int8KvCache {
    private Int8KvCache() {}

    /** Elements sharing a scale: 32 (a q8_0 block) where the head size allows, else the whole row. */
    public static int group(int headDim) {
        return headDim % 32 == 0 ? 32 : headDim;
    }

    /** True for the cache types stored this way. */
    public static boolean is(TensorType t) {
        return t.dtype() == DType.I8;
    }

    /** Byte offset of the scales in the cache buffer of {@code t} ({@code i8 [nKv, ctx, hd]}). */
    public static long scaleOffset(TensorType t) {
        return scaleOffset(t.shape().numel());
    }

    /** Byte offset of the scales in the buffer of a cache of {@code elements} values. */
    public static long scaleOffset(long elements) {
        return (elements + 15) / 16 * 16;
    }

    /** Byte offset of the scale of value {@code element} (counted from 0), the scales starting at byte {@code scales}. */
    public static long scaleByte(long scales, long element, int group) {
        return scales + 2 * (element / group);
    }

    /** Bytes of the whole cache buffer: values and scales. */
    public static long bytes(TensorType t) {
        int hd = (int) t.shape().dim(2).size();
        return scaleOffset(t) + 2 * (t.shape().numel() / group(hd));
    }

    /** The scale of a group whose largest magnitude is {@code amax}, as an f16 value. */
    public static float scale(float amax) {
        return Half.roundToHalf(amax * (1f / 127f));
    }

    /** {@code x} quantized with scale {@code s} (whose reciprocal is {@code inv}). */
    public static int quantize(float x, float s, float inv) {
        if (s == 0) return 0;
        float r = x * inv + (x >= 0 ? 0.5f : -0.5f);
        return Math.clamp((int) r, -127, 127);
    }

    /** The scale of the group {@code x[from .. from+n)}: of its largest magnitude. */
    private static float groupScale(float[] x, int from, int n) {
        float amax = 0;
        for (int i = from; i < from + n; i++) amax = Math.max(amax, Math.abs(x[i]));
        return scale(amax);
    }

    /** Rounds {@code x[off .. off+headDim)} in place to what the cache stores and gives back, group by group. */
    public static void roundTrip(float[] x, int off, int headDim) {
        int g = group(headDim);
        for (int g0 = off; g0 < off + headDim; g0 += g) {
            float s = groupScale(x, g0, g), inv = s == 0 ? 0 : 1f / s;
            for (int i = g0; i < g0 + g; i++) x[i] = quantize(x[i], s, inv) * s;
        }
    }

    /** Stores row {@code (h, p)} of {@code t}'s cache in {@code buf} from {@code x[off .. off+hd)}. */
    public static void put(MemorySegment buf, TensorType t, int h, int p, float[] x, int off) {
        int ctx = (int) t.shape().dim(1).size(), hd = (int) t.shape().dim(2).size(), g = group(hd);
        long row = (long) h * ctx + p, scales = scaleOffset(t);
        for (int j = 0; j < hd / g; j++) {
            float s = groupScale(x, off + j * g, g), inv = s == 0 ? 0 : 1f / s;
            buf.set(GroupQuantizer.F16, scaleByte(scales, row * hd + j * g, g), Half.fromFloat(s));
            for (int i = 0; i < g; i++)
                buf.set(java.lang.foreign.ValueLayout.JAVA_BYTE, row * hd + j * g + i, (byte) quantize(x[off + j * g + i], s, inv));
        }
    }

    /** Row {@code (h, p)} of {@code t}'s cache in {@code buf}, dequantized into {@code dst[off .. off+hd)}. */
    public static void get(MemorySegment buf, TensorType t, int h, int p, float[] dst, int off) {
        int ctx = (int) t.shape().dim(1).size(), hd = (int) t.shape().dim(2).size(), g = group(hd);
        long row = (long) h * ctx + p, scales = scaleOffset(t);
        for (int j = 0; j < hd / g; j++) {
            float s = Half.toFloat(buf.get(GroupQuantizer.F16, scaleByte(scales, row * hd + j * g, g)));
            for (int i = 0; i < g; i++) dst[off + j * g + i] = buf.get(java.lang.foreign.ValueLayout.JAVA_BYTE, row * hd + j * g + i) * s;
        }
    }

    /** The cache buffer of {@code t} holding {@code values} ({@code [nKv, ctx, hd]} floats), quantized row by row. */
    public static void encode(MemorySegment buf, TensorType t, float[] values) {
        int nKv = (int) t.shape().dim(0).size(), ctx = (int) t.shape().dim(1).size(), hd = (int) t.shape().dim(2).size();
        for (int h = 0; h < nKv; h++)
            for (int p = 0; p < ctx; p++) put(buf, t, h, p, values, (h * ctx + p) * hd);
    }

    /** The values of the cache buffer {@code buf} of {@code t}, dequantized into {@code dst} ({@code [nKv, ctx, hd]} floats): {@link #encode}'s inverse. */
    public static void decode(MemorySegment buf, TensorType t, float[] dst) {
        int nKv = (int) t.shape().dim(0).size(), ctx = (int) t.shape().dim(1).size(), hd = (int) t.shape().dim(2).size();
        for (int h = 0; h < nKv; h++)
            for (int p = 0; p < ctx; p++) get(buf, t, h, p, dst, (h * ctx + p) * hd);
    }
}
