package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jmlc.compiler.ir.Op;

import static jmlc.engine.runtime.cpu.Simd.F;
import static jmlc.engine.runtime.cpu.Simd.L;

/**
 * {@link Op.Add}, {@link Op.Mul}, {@link Op.Silu} over the first {@code n} elements, and
 * {@link Op.SiluMul} over {@code [seq, 2f] -> [seq, f]}. Outputs may alias inputs.
 * {@code silu(x) = x / (1 + e^-x)} uses the Vector API's {@code EXP} (SVML on x86, about 1 ulp);
 * large negative x gives {@code x / inf = -0}.
 */
public final class Elementwise {
    private Elementwise() {}

    public static void add(float[] a, float[] b, int n, float[] out) {
        check("add", n, a, b, out);
        if (!Simd.ENABLED) {
            Reference.add(a, b, n, out);
            return;
        }
        int i = 0;
        for (; i + L <= n; i += L) FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(out, i);
        for (; i < n; i++) out[i] = a[i] + b[i];
    }

    public static void mul(float[] a, float[] b, int n, float[] out) {
        check("mul", n, a, b, out);
        if (!Simd.ENABLED) {
            Reference.mul(a, b, n, out);
            return;
        }
        int i = 0;
        for (; i + L <= n; i += L) FloatVector.fromArray(F, a, i).mul(FloatVector.fromArray(F, b, i)).intoArray(out, i);
        for (; i < n; i++) out[i] = a[i] * b[i];
    }

    public static void silu(float[] x, int n, float[] out) {
        check("silu", n, x, out);
        if (!Simd.ENABLED) {
            Reference.silu(x, n, out);
            return;
        }
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(out, i);
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(F, x, i, m);
            v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(out, i, m);
        }
    }

    /** {@code out[s, i] = silu(x[s, i]) · x[s, f + i]}: gate and up halves of the fused projection. */
    public static void siluMul(float[] x, int seq, int f, float[] out) {
        check("silu_mul", seq * 2 * f, x);
        check("silu_mul", seq * f, out);
        if (!Simd.ENABLED) {
            Reference.siluMul(x, seq, f, out);
            return;
        }
        for (int s = 0; s < seq; s++) {
            int g = s * 2 * f, u = g + f, o = s * f, i = 0;
            for (; i + L <= f; i += L) {
                FloatVector v = FloatVector.fromArray(F, x, g + i);
                v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(F, x, u + i)).intoArray(out, o + i);
            }
            if (i < f) {
                VectorMask<Float> m = F.indexInRange(i, f);
                FloatVector v = FloatVector.fromArray(F, x, g + i, m);
                v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(F, x, u + i, m)).intoArray(out, o + i, m);
            }
        }
    }

    /** Every array holds at least {@code n} floats. */
    static void check(String op, long n, float[]... arrays) {
        if (n < 0) throw new IllegalArgumentException(op + ": negative size " + n);
        for (float[] a : arrays)
            if (a.length < n) throw new IllegalArgumentException(op + ": an array of " + a.length + " floats is shorter than the " + n + " the op needs");
    }
}
