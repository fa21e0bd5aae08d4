package jmlc.engine.runtime.cpu;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

/**
 * {@link Elementwise} against {@link Reference}. add and mul are exact (1e-7 allows nothing but
 * identical floats to within one rounding); silu uses the vector {@code EXP} (about 1 ulp), 1e-5.
 */
class ElementwiseTest {
    static final int[] SIZES = {1, 15, 16, 17, 1000, 5632};

    @Test
    void addMulSilu() {
        for (int n : SIZES) {
            SplittableRandom r = Check.random("ew" + n);
            float[] a = Check.gaussian(r, n, 4), b = Check.gaussian(r, n, 4), ref = new float[n];
            float[] out = Check.poisoned(n);
            Reference.add(a, b, n, ref);
            Elementwise.add(a, b, n, out);
            Check.close("add " + n, out, ref, n, 1e-7);
            out = Check.poisoned(n);
            Reference.mul(a, b, n, ref);
            Elementwise.mul(a, b, n, out);
            Check.close("mul " + n, out, ref, n, 1e-7);
            out = Check.poisoned(n);
            Reference.silu(a, n, ref);
            Elementwise.silu(a, n, out);
            Check.close("silu " + n, out, ref, n, 1e-5);
        }
    }

    @Test
    void siluMulSplitsGateAndUp() {
        for (int f : SIZES)
            for (int seq : new int[] {1, 3, 17}) {
                SplittableRandom r = Check.random("silumul" + f + "/" + seq);
                float[] x = Check.gaussian(r, seq * 2 * f, 4), ref = new float[seq * f], out = Check.poisoned(seq * f);
                Reference.siluMul(x, seq, f, ref);
                Elementwise.siluMul(x, seq, f, out);
                Check.close("silu_mul f " + f + " seq " + seq, out, ref, seq * f, 1e-5);
            }
    }
}
