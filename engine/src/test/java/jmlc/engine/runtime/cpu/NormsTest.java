package jmlc.engine.runtime.cpu;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

/** {@link Norms} against {@link Reference}; 1e-5 relative (float lanes for the sum of squares vs double). */
class NormsTest {
    static final int[] DIMS = {1, 7, 16, 100, 2048, 2051};

    @Test
    void rmsNorm() {
        for (int d : DIMS)
            for (int seq : new int[] {1, 3, 17}) {
                SplittableRandom r = Check.random("rms" + d + "/" + seq);
                float[] x = Check.gaussian(r, seq * d, 3), w = Check.gaussian(r, d, 1), ref = new float[seq * d];
                double eps = r.nextBoolean() ? 1e-5 : 1e-6;
                Reference.rmsNorm(x, seq, w, eps, ref);
                float[] out = Check.poisoned(seq * d);
                Norms.rmsNorm(x, seq, w, eps, out);
                Check.close("rms_norm d " + d + " seq " + seq, out, ref, seq * d, 1e-5);
                float[] inPlace = x.clone();
                Norms.rmsNorm(inPlace, seq, w, eps, inPlace);
                Check.close("rms_norm in place d " + d, inPlace, ref, seq * d, 1e-5);
            }
    }

    @Test
    void addRmsNormWritesSumAndNorm() {
        for (int d : DIMS)
            for (int seq : new int[] {1, 3, 17}) {
                SplittableRandom r = Check.random("addrms" + d + "/" + seq);
                float[] a = Check.gaussian(r, seq * d, 2), b = Check.gaussian(r, seq * d, 2), w = Check.gaussian(r, d, 1);
                float[] refSum = new float[seq * d], refOut = new float[seq * d];
                Reference.addRmsNorm(a, b, seq, w, 1e-5, refSum, refOut);
                float[] sum = Check.poisoned(seq * d), out = Check.poisoned(seq * d);
                Norms.addRmsNorm(a, b, seq, w, 1e-5, sum, out);
                Check.close("add_rms_norm sum d " + d, sum, refSum, seq * d, 1e-7);
                Check.close("add_rms_norm out d " + d, out, refOut, seq * d, 1e-5);
            }
    }
}
