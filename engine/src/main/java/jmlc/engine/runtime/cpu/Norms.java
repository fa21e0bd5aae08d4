package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jmlc.compiler.ir.Op;

import static jmlc.engine.runtime.cpu.Simd.F;
import static jmlc.engine.runtime.cpu.Simd.L;

/**
 * {@link Op.RmsNorm} and {@link Op.AddRmsNorm} over rows of {@code [seq, d]}; {@code w} is the f32
 * norm weight {@code [d]} (a runtime converts an f16 norm weight once, at load). The sum of squares
 * is accumulated in {@code L} float lanes (relative error ~1e-7 for d in the thousands). Outputs may
 * alias inputs.
 */
public final class Norms {
    private Norms() {}

    /** {@code out[s, :] = x[s, :] / sqrt(mean(x[s, :]²) + eps) · w}. */
    public static void rmsNorm(float[] x, int seq, float[] w, double eps, float[] out) {
        int d = w.length;
        Elementwise.check("rms_norm", seq * d, x, out);
        if (!Simd.ENABLED) {
            Reference.rmsNorm(x, seq, w, eps, out);
            return;
        }
        for (int s = 0; s < seq; s++) normRow(x, s * d, d, w, eps, out);
    }

    /** {@code sum = a + b}, {@code out = rmsNorm(sum)}: the residual add fused with the next norm, one pass over a and b. */
    public static void addRmsNorm(float[] a, float[] b, int seq, float[] w, double eps, float[] sum, float[] out) {
        int d = w.length;
        Elementwise.check("add_rms_norm", seq * d, a, b, sum, out);
        if (!Simd.ENABLED) {
            Reference.addRmsNorm(a, b, seq, w, eps, sum, out);
            return;
        }
        for (int s = 0; s < seq; s++) {
            int o = s * d, i = 0;
            FloatVector ss = FloatVector.zero(F);
            for (; i + L <= d; i += L) {
                FloatVector v = FloatVector.fromArray(F, a, o + i).add(FloatVector.fromArray(F, b, o + i));
                v.intoArray(sum, o + i);
                ss = v.fma(v, ss);
            }
            double tail = 0;
            for (; i < d; i++) {
                float v = a[o + i] + b[o + i];
                sum[o + i] = v;
                tail += v * v;
            }
            scale(sum, o, d, w, inverseRms(ss.reduceLanes(VectorOperators.ADD) + tail, d, eps), out);
        }
    }

    private static void normRow(float[] x, int o, int d, float[] w, double eps, float[] out) {
        FloatVector ss = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= d; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, o + i);
            ss = v.fma(v, ss);
        }
        double tail = 0;
        for (; i < d; i++) tail += x[o + i] * x[o + i];
        scale(x, o, d, w, inverseRms(ss.reduceLanes(VectorOperators.ADD) + tail, d, eps), out);
    }

    private static float inverseRms(double sumSquares, int d, double eps) {
        return (float) (1 / Math.sqrt(sumSquares / d + eps));
    }

    /** {@code out[o + i] = x[o + i] · inv · w[i]}. */
    private static void scale(float[] x, int o, int d, float[] w, float inv, float[] out) {
        int i = 0;
        for (; i + L <= d; i += L)
            FloatVector.fromArray(F, x, o + i).mul(inv).mul(FloatVector.fromArray(F, w, i)).intoArray(out, o + i);
        if (i < d) {
            VectorMask<Float> m = F.indexInRange(i, d);
            FloatVector.fromArray(F, x, o + i, m).mul(inv).mul(FloatVector.fromArray(F, w, i, m)).intoArray(out, o + i, m);
        }
    }
}
