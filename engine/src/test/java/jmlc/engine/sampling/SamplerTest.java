package jmlc.engine.sampling;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The host sampler: each option does what Hugging Face's generate() does with it. */
class SamplerTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run

    static float[] logits(Random r, int n) {
        float[] l = new float[n];
        for (int i = 0; i < n; i++) l[i] = (float) r.nextGaussian();
        return l;
    }

    @Test
    void greedyIsTheFirstLargest() {
        float[] l = {0.5f, 2f, 2f, -1f};
        assertEquals(1, new Sampler(SamplingParams.GREEDY).sample(l.clone(), new int[0], 0));
    }

    @Test
    void topKDrawsOnlyFromTheKLargest() {
        Random r = new Random(SEED);
        float[] l = logits(r, 1000);
        int[] order = Sampler.byDescendingProbability(java.util.Arrays.stream(toDouble(l)).toArray());
        java.util.Set<Integer> top = java.util.Set.of(order[0], order[1], order[2]);
        Sampler s = new Sampler(new SamplingParams(1.5, 3, 1, 1, SEED));
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int i = 0; i < 300; i++) seen.add(s.sample(l.clone(), new int[0], 0));
        assertEquals(top, seen, "seed " + SEED);
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // probabilities 0.5, 0.3, 0.15, 0.05 at temperature 1: p = 0.7 keeps the first two
        float[] l = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        Sampler s = new Sampler(new SamplingParams(1, 0, 0.7, 1, SEED));
        int[] counts = new int[4];
        for (int i = 0; i < 4000; i++) counts[s.sample(l.clone(), new int[0], 0)]++;
        assertEquals(0, counts[2] + counts[3], java.util.Arrays.toString(counts));
        double share = counts[0] / 4000.0; // renormalized: 0.5 / 0.8
        assertEquals(0.625, share, 0.04, "seed " + SEED);
    }

    @Test
    void temperatureSamplingFollowsTheSoftmax() {
        float[] l = {0f, (float) Math.log(3)}; // probabilities 1/4, 3/4 at temperature 1
        Sampler s = new Sampler(new SamplingParams(1, 0, 1, 1, SEED));
        int ones = 0;
        for (int i = 0; i < 4000; i++) ones += s.sample(l.clone(), new int[0], 0);
        assertEquals(0.75, ones / 4000.0, 0.03, "seed " + SEED);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        float[] l = {2f, -1f, 1.9f};
        Sampler.applyRepetitionPenalty(l, new int[] {0, 1, 0}, 3, 2f);
        assertArrayEquals(new float[] {1f, -2f, 1.9f}, l);
        assertEquals(2, new Sampler(new SamplingParams(0, 0, 1, 2, 0)).sample(new float[] {2f, -1f, 1.9f}, new int[] {0}, 1));
    }

    @Test
    void aSeedRepeatsTheDraws() {
        Random r = new Random(SEED);
        float[] l = logits(r, 500);
        Sampler a = new Sampler(new SamplingParams(0.8, 40, 0.9, 1.1, 7)), b = new Sampler(new SamplingParams(0.8, 40, 0.9, 1.1, 7));
        for (int i = 0; i < 50; i++) assertEquals(a.sample(l.clone(), new int[] {i}, 1), b.sample(l.clone(), new int[] {i}, 1));
    }

    @Test
    void badSettingsAreRefusedWithTheirName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(-1, 0, 1, 1, 0)).getMessage().contains("temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 0, 1.5, 1, 0)).getMessage().contains("top-p"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, -2, 1, 1, 0)).getMessage().contains("top-k"));
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
