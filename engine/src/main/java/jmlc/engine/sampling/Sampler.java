package jmlc.engine.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses next tokens from logits on the host (runtimes that sample on the device implement the
 * same steps). One sampler per generation: it owns the seeded random stream.
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * @param logits  one row of {@code vocab} logits (modified in place)
     * @param context token ids seen so far (for the repetition penalty)
     * @throws NonFiniteLogitsException if a logit is NaN or infinite
     */
    public int sample(float[] logits, int[] context, int contextLength) {
        NonFiniteLogitsException.check(logits); // NaN or Inf weights would otherwise pick garbage without a word
        if (params.repetitionPenalty() != 1) applyRepetitionPenalty(logits, context, contextLength, (float) params.repetitionPenalty());
        if (params.greedy()) return argmax(logits);
        int n = logits.length;
        float max = logits[argmax(logits)];
        double[] p = new double[n];
        for (int i = 0; i < n; i++) p[i] = Math.exp((logits[i] - max) / params.temperature());
        int[] order = null;
        if (params.topK() > 0 || params.topP() < 1) {
            order = byDescendingProbability(p);
            int keep = params.topK() > 0 ? Math.min(params.topK(), n) : n;
            if (params.topP() < 1) {
                double total = 0;
                for (int i = 0; i < keep; i++) total += p[order[i]];
                double cum = 0;
                for (int i = 0; i < keep; i++) {
                    cum += p[order[i]] / total;
                    if (cum >= params.topP()) {
                        keep = i + 1;
                        break;
                    }
                }
            }
            for (int i = keep; i < n; i++) p[order[i]] = 0;
        }
        double total = 0;
        for (double v : p) total += v;
        double r = random.nextDouble() * total;
        for (int i = 0; i < n; i++) {
            r -= p[i];
            if (r < 0) return i;
        }
        return order != null ? order[0] : argmax(logits);
    }

    /** The next uniform draw in [0, 1) of this generation's stream (device samplers use it as the sampling kernel's u). */
    public double nextUniform() {
        return random.nextDouble();
    }

    /** Whether a device can do this sampling itself: no top-k, top-p or repetition penalty. */
    public boolean deviceSamplable() {
        return params.topK() == 0 && params.topP() == 1 && params.repetitionPenalty() == 1;
    }

    /**
     * Token ids by falling probability (ties by id), sorted as primitive longs: the probability as
     * float bits (non-negative floats order like their bits) above, the complemented id below.
     */
    static int[] byDescendingProbability(double[] p) {
        long[] keys = new long[p.length];
        for (int i = 0; i < p.length; i++) keys[i] = ((long) Float.floatToIntBits((float) p[i]) << 32) | (0xFFFFFFFFL & ~i);
        Arrays.sort(keys);
        int[] order = new int[p.length];
        for (int i = 0; i < p.length; i++) order[i] = ~(int) keys[p.length - 1 - i];
        return order;
    }

    /** Index of the largest logit (the first among ties). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    static void applyRepetitionPenalty(float[] logits, int[] context, int length, float penalty) {
        boolean[] seen = new boolean[logits.length];
        for (int i = 0; i < length; i++) {
            int t = context[i];
            if (t < 0 || t >= logits.length || seen[t]) continue;
            seen[t] = true;
            logits[t] = logits[t] > 0 ? logits[t] / penalty : logits[t] * penalty;
        }
    }
}
