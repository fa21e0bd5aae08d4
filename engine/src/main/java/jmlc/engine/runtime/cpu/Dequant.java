package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.quant.GroupQuantizer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One weight row as floats, in natural column order, for every weight kind: embedding lookups,
 * prefill tiles (except the 4-bit fast path, which decodes permuted: {@link Q4Gemv#decodePermuted})
 * and the GEMV of group sizes without a fast path.
 */
final class Dequant {
    private Dequant() {}

    /** Row {@code r} of {@code w} into {@code out[off .. off+cols)}. */
    static void decodeRow(Weight w, int r, float[] out, int off) {
        switch (w) {
            case Weight.Dense d -> DenseGemv.decodeRow(d, r, out, off);
            case Weight.Quantized q when Q8Gemv.supports(q.scheme()) -> Q8Gemv.decodeRow(q, r, out, off);
            case Weight.Quantized q -> decodeGroups(q, r, out, off);
        }
    }

    /**
     * Any {@link QuantScheme}, a group at a time: one scale, then 8 values per 4-bit word (a shift
     * and mask each) or one per byte. Plain Java; fast enough for one row per token.
     */
    private static void decodeGroups(Weight.Quantized w, int r, float[] out, int off) {
        QuantScheme s = w.scheme();
        int cols = w.cols(), g = s.groupSize(), groups = cols / g;
        float zero = s.zero();
        MemorySegment data = w.data();
        for (int gi = 0; gi < groups; gi++) {
            float scale = GroupQuantizer.scale(s, w.scales(), (long) r * groups + gi);
            int c0 = gi * g;
            if (s.bits() == 4) {
                long word0 = ((long) r * cols + c0) / 8;
                for (int k = 0; k < g / 8; k++) {
                    int word = data.getAtIndex(GroupQuantizer.U32, word0 + k);
                    int o = off + c0 + 8 * k;
                    for (int j = 0; j < 8; j++) out[o + j] = (((word >>> (4 * j)) & 0xF) - zero) * scale;
                }
            } else {
                long b0 = (long) r * cols + c0;
                for (int k = 0; k < g; k++) out[off + c0 + k] = (data.get(ValueLayout.JAVA_BYTE, b0 + k) - zero) * scale;
            }
        }
    }

    /** True for the kinds {@link Dequant#decodeGroups} serves (no vector GEMV): the generic fallback. */
    static boolean generic(Weight w) {
        return w instanceof Weight.Quantized q && !Q4Gemv.supports(q.scheme()) && !Q8Gemv.supports(q.scheme());
    }
}
