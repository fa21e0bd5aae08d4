package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static jmlc.engine.runtime.cpu.Simd.F;
import static jmlc.engine.runtime.cpu.Simd.I;
import static jmlc.engine.runtime.cpu.Simd.L;

/**
 * Greedy decoding's pick: the index of the first largest logit. NaN is never the largest (all NaN
 * gives 0), as in {@link Reference#argmax}. Each lane keeps its own best value and the first index
 * that reached it (strictly greater replaces, so ties keep the earlier index); the lanes are then
 * merged, preferring the smaller index among equal values.
 */
public final class Argmax {
    private Argmax() {}

    public static int argmax(float[] x, int off, int n) {
        if (n < 1 || off < 0 || (long) off + n > x.length)
            throw new IllegalArgumentException("argmax: range [" + off + ", " + ((long) off + n) + ") of an array of " + x.length);
        if (!Simd.ENABLED || n < 2 * L) return Reference.argmax(x, off, n);
        FloatVector best = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        IntVector at = IntVector.zero(I), index = IntVector.zero(I).addIndex(1);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            VectorMask<Float> gt = v.compare(VectorOperators.GT, best);
            best = best.blend(v, gt);
            at = at.blend(index, gt.cast(I));
            index = index.add(L);
        }
        float[] bv = best.toArray();
        int[] bi = at.toArray();
        float max = Float.NEGATIVE_INFINITY;
        int win = 0;                                          // stays 0 when nothing exceeds -inf
        for (int l = 0; l < L; l++)
            if (bv[l] > max || (bv[l] == max && max > Float.NEGATIVE_INFINITY && bi[l] < win)) {
                max = bv[l];
                win = bi[l];
            }
        for (; i < n; i++)
            if (x[off + i] > max) {
                max = x[off + i];
                win = i;
            }
        return win;
    }
}
