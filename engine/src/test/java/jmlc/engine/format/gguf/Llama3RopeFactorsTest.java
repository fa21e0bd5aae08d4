package jmlc.engine.format.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import jmlc.compiler.ir.RopeSpec;
import jmlc.engine.format.tensor.ModelFormatException;
import org.junit.jupiter.api.Test;

class Llama3RopeFactorsTest {
    private static final Path FILE = Path.of("m.gguf");

    private static RopeSpec.Scaling roundTrip(RopeSpec.Scaling.Llama3 s, double theta, int headDim) {
        return Llama3RopeFactors.fit(FILE, Llama3RopeFactors.divisors(s, theta, headDim), theta, headDim);
    }

    /** Llama 3.1 8B/70B (factor 8) and Llama 3.2 1B/3B (factor 32): head_dim 128 or 64, theta 500000. */
    @Test
    void recoversTheParametersOfRealLlama3Configs() {
        assertEquals(new RopeSpec.Scaling.Llama3(8, 1, 4, 8192), roundTrip(new RopeSpec.Scaling.Llama3(8, 1, 4, 8192), 500000, 128));
        assertEquals(new RopeSpec.Scaling.Llama3(32, 1, 4, 8192), roundTrip(new RopeSpec.Scaling.Llama3(32, 1, 4, 8192), 500000, 64));
    }

    /** Whatever parameters come back, the frequencies they give are the file's. */
    @Test
    void recoveredScalingGivesTheSameFrequencies() {
        RopeSpec.Scaling.Llama3[] cases = {
            new RopeSpec.Scaling.Llama3(8, 1, 4, 512), // head_dim 16: one divisor in the smooth band
            new RopeSpec.Scaling.Llama3(16, 2, 6, 4096), // low_freq_factor 2: comes back normalised to 1
            new RopeSpec.Scaling.Llama3(4, 1, 1.5, 200), // narrow band: no divisor inside it
        };
        for (RopeSpec.Scaling.Llama3 s : cases) {
            for (int hd : new int[] {16, 64, 128}) {
                double theta = 10000;
                RopeSpec.Scaling got = roundTrip(s, theta, hd);
                double[] want = new RopeSpec(hd, theta, RopeSpec.Style.HALF, s).invFreq();
                double[] have = new RopeSpec(hd, theta, RopeSpec.Style.HALF, got).invFreq();
                for (int i = 0; i < want.length; i++)
                    assertEquals(want[i], have[i], want[i] * 1e-4, s + " head_dim " + hd + " -> " + got + " pair " + i);
            }
        }
    }

    @Test
    void tinyModelParametersComeBackExactly() {
        assertEquals(new RopeSpec.Scaling.Llama3(8, 1, 4, 512), roundTrip(new RopeSpec.Scaling.Llama3(8, 1, 4, 512), 10000, 16));
    }

    @Test
    void constantDivisorsAreLinearOrNone() {
        float[] ones = new float[32];
        Arrays.fill(ones, 1);
        assertInstanceOf(RopeSpec.Scaling.None.class, Llama3RopeFactors.fit(FILE, ones, 10000, 64));
        float[] fours = new float[32];
        Arrays.fill(fours, 4);
        assertEquals(new RopeSpec.Scaling.Linear(4), Llama3RopeFactors.fit(FILE, fours, 10000, 64));
    }

    @Test
    void otherPatternsAreRefused() {
        float[] d = new float[32];
        for (int i = 0; i < d.length; i++) d[i] = i % 2 == 0 ? 1 : 3; // alternating: no Llama 3 scaling does this
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Llama3RopeFactors.fit(FILE, d, 10000, 64));
        assertTrue(e.getMessage().contains("rope_freqs.weight") && e.getMessage().contains("Llama 3"), e.getMessage());
        float[] neg = new float[32];
        Arrays.fill(neg, -1);
        assertThrows(ModelFormatException.class, () -> Llama3RopeFactors.fit(FILE, neg, 10000, 64));
    }
}
