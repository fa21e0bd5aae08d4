package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Op;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.quant.Half;
import jmlc.compiler.quant.Int8KvCache;
import jmlc.compiler.ir.TensorType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One cache tensor of a layer, keys or values: {@code [nKv, maxCtx, headDim]} f32, f16 or int8
 * (bytes and a scale per group, {@link Int8KvCache}), off-heap, little-endian. Position {@code p} of head {@code h} starts at element
 * {@code (h·maxCtx + p)·headDim}, so one head's positions are contiguous for attention to stream.
 * Attention reads it from pool threads: the segment must not be thread-confined.
 */
public record KvCache(MemorySegment data, DType dtype, int nKv, int maxCtx, int headDim) {

    public KvCache {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.I8) throw new IllegalArgumentException("a KV cache is f32, f16 or i8, not " + dtype);
        if (nKv <= 0 || maxCtx <= 0 || headDim <= 0)
            throw new IllegalArgumentException("KV cache shape [" + nKv + ", " + maxCtx + ", " + headDim + "] must be positive");
        long need = bytes(dtype, nKv, maxCtx, headDim);
        if (data.byteSize() < need)
            throw new IllegalArgumentException("KV cache [" + nKv + ", " + maxCtx + ", " + headDim + "] " + dtype + " needs " + need + " bytes, segment has " + data.byteSize());
    }

    /** A zeroed cache in {@code arena}. */
    public static KvCache allocate(Arena arena, DType dtype, int nKv, int maxCtx, int headDim) {
        return new KvCache(arena.allocate(bytes(dtype, nKv, maxCtx, headDim), 64), dtype, nKv, maxCtx, headDim);
    }

    private static long bytes(DType dtype, int nKv, int maxCtx, int headDim) {
        if (dtype == DType.I8) return Int8KvCache.bytes(TensorType.of(DType.I8, nKv, maxCtx, headDim));
        return (long) nKv * maxCtx * headDim * (dtype == DType.F16 ? 2 : 4);
    }

    private TensorType type() {
        return TensorType.of(dtype, nKv, maxCtx, headDim);
    }

    /** An int8 cache's scales: their byte offset, from the shape's numbers (no TensorType made per row read). */
    private long scaleOffset() {
        return Int8KvCache.scaleOffset((long) nKv * maxCtx * headDim);
    }

    /** Byte offset of element 0 of head {@code h} at position {@code p}. */
    long offset(int h, int p) {
        return ((long) h * maxCtx + p) * headDim * (dtype.bits() / 8);
    }

    /** Stores {@code src[off .. off+headDim)} as head {@code h} at position {@code p}. */
    void put(int h, int p, float[] src, int off) {
        long o = offset(h, p);
        if (dtype == DType.I8) {
            Int8KvCache.put(data, type(), h, p, src, off);
        } else if (dtype == DType.F16) {
            for (int i = 0; i < headDim; i++) data.set(GroupQuantizer.F16, o + 2L * i, Half.fromFloat(src[off + i]));
        } else {
            MemorySegment.copy(src, off, data, GroupQuantizer.F32, o, headDim);
        }
    }

    /** Head {@code h} at position {@code p} as floats into {@code dst[off .. off+headDim)}. */
    void load(int h, int p, float[] dst, int off) {
        if (dtype == DType.F32) Simd.f32ToFloat(data, offset(h, p), dst, off, headDim);
        else if (dtype == DType.F16) Simd.halfToFloat(data, offset(h, p), dst, off, headDim);
        else if (!Simd.ENABLED) Int8KvCache.get(data, type(), h, p, dst, off);
        else { // a vector of bytes a step, times the group's scale
            int g = Int8KvCache.group(headDim);
            long row = offset(h, p), scales = scaleOffset();
            for (int j = 0; j < headDim; j += g)
                Simd.int8ToFloat(data, row + j, Half.toFloat(data.get(GroupQuantizer.F16, Int8KvCache.scaleByte(scales, row + j, g))), dst, off + j, g);
        }
    }

    /** Element {@code i} of head {@code h} at position {@code p}, as a float. */
    public float get(int h, int p, int i) {
        long o = offset(h, p);
        if (dtype == DType.I8) {
            int g = Int8KvCache.group(headDim);
            long scale = Int8KvCache.scaleByte(scaleOffset(), o + i, g);
            return data.get(java.lang.foreign.ValueLayout.JAVA_BYTE, o + i) * Half.toFloat(data.get(GroupQuantizer.F16, scale));
        }
        return dtype == DType.F16 ? Half.toFloat(data.get(GroupQuantizer.F16, o + 2L * i)) : data.get(GroupQuantizer.F32, o + 4L * i);
    }

    /**
     * {@link Op.KvAppend}: {@code cache[h, pos+s, :] = x[s, h·hd : (h+1)·hd]} for {@code s < seq};
     * {@code x} is f32 {@code [seq, nKv·hd]}.
     */
    public void append(float[] x, int seq, int pos) {
        checkAppend(seq, pos, x.length, (long) nKv * headDim, "x");
        for (int s = 0; s < seq; s++)
            for (int h = 0; h < nKv; h++) put(h, pos + s, x, (s * nKv + h) * headDim);
    }

    void checkAppend(int seq, int pos, long have, long rowLen, String what) {
        if (seq < 1 || pos < 0 || (long) pos + seq > maxCtx)
            throw new IllegalArgumentException("KV cache of " + maxCtx + " positions cannot take " + seq + " tokens at position " + pos);
        if (have < seq * rowLen)
            throw new IllegalArgumentException("KV append: " + what + " has " + have + " floats, [" + seq + ", " + rowLen + "] needs " + seq * rowLen);
    }
}
