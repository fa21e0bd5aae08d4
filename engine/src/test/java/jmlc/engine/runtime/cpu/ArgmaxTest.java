package jmlc.engine.runtime.cpu;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link Argmax} agrees exactly with {@link Reference#argmax}, ties, NaN and infinities included. */
class ArgmaxTest {

    @Test
    void randomRowsWithTiesAndSpecialValues() {
        for (int n : new int[] {1, 5, 16, 33, 1000, 32000}) {
            SplittableRandom r = Check.random("argmax" + n);
            for (int trial = 0; trial < 20; trial++) {
                float[] x = new float[n + 4];
                int off = r.nextInt(4);
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextInt(-50, 50);   // many ties
                if (trial % 4 == 1) for (int k = 0; k < 5; k++) x[off + r.nextInt(n)] = Float.NaN;
                if (trial % 4 == 2) x[off + r.nextInt(n)] = Float.POSITIVE_INFINITY;
                if (trial % 4 == 3) java.util.Arrays.fill(x, off, off + n, Float.NEGATIVE_INFINITY);
                assertEquals(Reference.argmax(x, off, n), Argmax.argmax(x, off, n), "n " + n + " trial " + trial + " [seed " + Check.SEED + "]");
            }
        }
    }

    @Test
    void allNaNGivesZeroAndTheFirstMaximumWins() {
        float[] x = new float[100];
        java.util.Arrays.fill(x, Float.NaN);
        assertEquals(0, Argmax.argmax(x, 0, 100));
        java.util.Arrays.fill(x, 1f);
        x[70] = 2f;
        x[90] = 2f;
        assertEquals(70, Argmax.argmax(x, 0, 100));
        assertEquals(20, Argmax.argmax(x, 50, 50));
    }
}
