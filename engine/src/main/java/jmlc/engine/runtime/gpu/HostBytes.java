package jmlc.engine.runtime.gpu;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.quant.Half;
import jmlc.compiler.quant.Int8KvCache;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Activations and KV caches between host floats and the bytes of their device buffers: f32, f16,
 * or an int8 cache (values and scales, {@link Int8KvCache}). For the GPU suite's checks and the
 * tuner's regions, which compare device values with the reference interpreter's floats.
 */
final class HostBytes {
    private HostBytes() {}

    /** Bytes of {@code n} elements of {@code t} on the device (a whole int8 cache with its scales). */
    static long size(TensorType t, long n) {
        if (Int8KvCache.is(t)) return Int8KvCache.bytes(t);
        return switch (t.dtype()) {
            case F16 -> 2 * n;
            case F32, I32 -> 4 * n;
            default -> throw new IllegalArgumentException("activations and caches are f32, f16 or i8, not " + t.dtype());
        };
    }

    /** {@code v} ({@code n} elements of {@code t}) as the device stores it, in {@code arena}. */
    static MemorySegment encode(Arena arena, float[] v, TensorType t) {
        MemorySegment s = arena.allocate(Math.max(4, size(t, v.length)), 16);
        if (Int8KvCache.is(t)) Int8KvCache.encode(s, t, v);
        else for (int i = 0; i < v.length; i++) {
            if (t.dtype() == DType.F16) s.setAtIndex(GroupQuantizer.F16, i, Half.fromFloat(v[i]));
            else s.setAtIndex(GroupQuantizer.F32, i, v[i]);
        }
        return s;
    }

    /** {@code n} elements of {@code t} at device address {@code addr}, as floats. */
    static float[] download(GpuDevice dev, Arena arena, long addr, long n, TensorType t) {
        MemorySegment buf = arena.allocate(size(t, n), 16);
        dev.download(buf, addr, size(t, n));
        float[] f = new float[Math.toIntExact(n)];
        if (Int8KvCache.is(t)) Int8KvCache.decode(buf, t, f);
        else for (int i = 0; i < f.length; i++)
            f[i] = t.dtype() == DType.F16 ? Half.toFloat(buf.getAtIndex(GroupQuantizer.F16, i)) : buf.getAtIndex(GroupQuantizer.F32, i);
        return f;
    }
}
