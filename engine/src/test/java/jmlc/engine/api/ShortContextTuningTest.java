package jmlc.engine.api;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the short-context stage hands over: the threshold whose steps over the positions timed take least. */
class ShortContextTuningTest {
    /** A sweep whose one-block step grows {@code slope} ms a position from {@code atZero}, against a split step that grows 1e-5 a position from 1.7. */
    private static ShortContextTuning.Sweep sweep(int[] at, double atZero, double slope, double noise, long seed) {
        Random r = new Random(seed);
        double[] split = new double[at.length], one = new double[at.length];
        for (int i = 0; i < at.length; i++) {
            split[i] = 1.7 + 1e-5 * at[i] + noise * r.nextGaussian();
            one[i] = atZero + slope * at[i] + noise * r.nextGaussian();
        }
        return new ShortContextTuning.Sweep(at, split, one);
    }

    @Test
    void thePositionsTimedSpanTheContextUpToTheHorizon() {
        int[] p = ShortContextTuning.positions(4096);
        assertEquals(ShortContextTuning.POINTS, p.length, Arrays.toString(p));
        assertEquals(0, p[0]);
        assertEquals(32, p[1]);
        assertTrue(p[p.length - 1] < ShortContextTuning.HORIZON);
        assertArrayEquals(new int[] {0, 8, 16, 24}, ShortContextTuning.positions(32), "a tiny context: a few, a stride of 8 apart");
        assertArrayEquals(new int[] {0}, ShortContextTuning.positions(4), "shorter than a stride: position 0 alone");
    }

    @Test
    void theThresholdIsWhereTheOneBlockStepStopsBeingTheFaster() {
        int[] at = ShortContextTuning.positions(4096);
        // one block 1.64 ms at 0, 2.5e-4 ms a position more: equal to the split at 0.06 / 2.4e-4 = 250
        var s = sweep(at, 1.64, 2.5e-4, 0, 1);
        assertEquals(256, ShortContextTuning.best(s), "the first position timed past 250");
        assertTrue(s.meanMs(256) < s.meanMs(0) && s.meanMs(256) < s.meanMs(512));
        assertEquals(0, ShortContextTuning.best(sweep(at, 1.75, 1e-4, 0, 1)), "slower everywhere: never");
        assertEquals(at[at.length - 1] + 32, ShortContextTuning.best(sweep(at, 1.60, 1e-5, 0, 1)), "faster everywhere timed: all of them");
    }

    @Test
    void noiseAtOnePositionDoesNotMoveTheThresholdFar() {
        int[] at = ShortContextTuning.positions(4096);
        for (long seed = 1; seed <= 20; seed++) {
            // 0.3% noise a timing (more than a real card's events show over 10 replays)
            int t = ShortContextTuning.best(sweep(at, 1.64, 2.5e-4, 0.005, seed));
            assertTrue(t >= 160 && t <= 352, "seed " + seed + ": " + t);
        }
    }

    @Test
    void theDatabasesThresholdStaysWhereTheBestIsWithinNoiseOfIt() {
        int[] at = ShortContextTuning.positions(4096);
        var s = sweep(at, 1.64, 2.5e-4, 0, 1);
        assertEquals(256, ShortContextTuning.kept(s, ShortContextTuning.best(s), 0), "never against the best: far apart");
        assertEquals(256, ShortContextTuning.kept(s, ShortContextTuning.best(s), 512));
        // 224 and 288 are a stride either side of the best: their steps differ from its by a few microseconds in all
        assertTrue(s.meanMs(224) < ShortContextTuning.MIN_GAIN * s.meanMs(256));
        assertEquals(224, ShortContextTuning.kept(s, ShortContextTuning.best(s), 224), "within noise of the best: the database's stays");
        assertEquals(288, ShortContextTuning.kept(s, ShortContextTuning.best(s), 288));
    }

    @Test
    void theChoiceSaysWhatWasTimedAndWhatItSaves() {
        int[] at = ShortContextTuning.positions(4096);
        var s = sweep(at, 1.64, 2.5e-4, 0, 1);
        var lines = new ShortContextTuning.Choice("decode_short_context_h32@cuda:sm_90", 256, 320, 256, s).lines();
        assertTrue(lines.getFirst().contains("below position 256 (was 320):"), lines.toString());
        assertTrue(lines.getLast().contains("with 256") && lines.getLast().contains("with 320"), lines.toString());
        var stayed = new ShortContextTuning.Choice("decode_short_context_h32@cuda:sm_90", 224, 224, 256, s).lines();
        assertTrue(stayed.getFirst().contains("below position 224 (was 224; the fastest timed, 256, is within 0.1% of it)"), stayed.toString());
    }
}
