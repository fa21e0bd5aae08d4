package jmlc.engine.runtime.cpu;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Test support: fresh random inputs every run (the seed is in every failure message, and
 * {@code -Djmlc.test.seed=N} replays one), relative error against a reference, and poisoned
 * outputs that prove every element was written and nothing past the end was.
 */
final class Check {
    private Check() {}

    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime());

    /** A generator for one test case, derived from the run's seed and the case's name. */
    static SplittableRandom random(String name) {
        return new SplittableRandom(SEED ^ name.hashCode() * 0x9E3779B97F4A7C15L);
    }

    static float[] gaussian(SplittableRandom r, int n, double sd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (gaussian(r) * sd);
        return a;
    }

    static double gaussian(SplittableRandom r) {
        double u = r.nextDouble(1e-300, 1), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** An output of {@code n} floats plus 3 past its end, all NaN. */
    static float[] poisoned(int n) {
        float[] a = new float[n + 3];
        Arrays.fill(a, Float.NaN);
        return a;
    }

    /**
     * {@code ‖out − ref‖ / ‖ref‖ < tol} over the first {@code n} elements, every one of them written
     * (finite) and the 3 past them still NaN.
     */
    static void close(String what, float[] out, float[] ref, int n, double tol) {
        for (int i = 0; i < n; i++)
            if (!Float.isFinite(out[i])) fail(what + ": element " + i + " is " + out[i] + " (not written?) [seed " + SEED + "]");
        for (int i = n; i < out.length; i++)
            assertTrue(Float.isNaN(out[i]), what + ": element " + i + " past the end was written [seed " + SEED + "]");
        double e = relError(out, ref, n);
        assertTrue(e < tol, what + ": relative error " + e + " >= " + tol + " [seed " + SEED + "]");
    }

    static double relError(float[] out, float[] ref, int n) {
        double num = 0, den = 0;
        for (int i = 0; i < n; i++) {
            double d = (double) out[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        assertFalse(den == 0, "reference is all zeros: the test cannot fail");
        return Math.sqrt(num / den);
    }

    /**
     * Every element within {@code scale[i]} of the reference ({@code |out − ref| ≤ scale}), written,
     * and the 3 past the end still NaN. For outputs whose natural error scale is per element, such as
     * dot products, where a relative norm over few elements is ill-conditioned by cancellation.
     */
    static void closeScaled(String what, float[] out, float[] ref, double[] scale, int n) {
        for (int i = n; i < out.length; i++)
            assertTrue(Float.isNaN(out[i]), what + ": element " + i + " past the end was written [seed " + SEED + "]");
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(out[i])) fail(what + ": element " + i + " is " + out[i] + " (not written?) [seed " + SEED + "]");
            double e = Math.abs((double) out[i] - ref[i]);
            if (!(e <= scale[i])) fail(what + ": element " + i + " is " + out[i] + ", reference " + ref[i] + ", error " + e + " > " + scale[i] + " [seed " + SEED + "]");
        }
    }
}
