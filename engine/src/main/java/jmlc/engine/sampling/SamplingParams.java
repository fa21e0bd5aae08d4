package jmlc.engine.sampling;

/**
 * How the next token is chosen from the logits, as Hugging Face's generate() applies the same
 * options: repetition penalty, then temperature, then top-k, then top-p (nucleus), then a draw.
 *
 * @param temperature       0 means greedy (argmax)
 * @param topK              keep the k most likely tokens; 0 keeps all
 * @param topP              keep the smallest set whose probability reaches p; 1 keeps all
 * @param repetitionPenalty divide positive (multiply negative) logits of tokens already in the context; 1 is off
 * @param seed              seed of the draw, so sampled generations repeat
 */
public record SamplingParams(double temperature, int topK, double topP, double repetitionPenalty, long seed) {

    public SamplingParams {
        if (temperature < 0 || Double.isNaN(temperature)) throw new IllegalArgumentException("temperature must be >= 0, found " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, found " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], found " + topP);
        if (!(repetitionPenalty > 0)) throw new IllegalArgumentException("repetition penalty must be > 0, found " + repetitionPenalty);
    }

    public static final SamplingParams GREEDY = new SamplingParams(0, 0, 1, 1, 0);

    /** MLC chat's defaults: temperature 0.7, top-p 0.95, repetition penalty 1. */
    public static SamplingParams defaults() {
        return new SamplingParams(0.7, 0, 0.95, 1.0, System.nanoTime());
    }

    public boolean greedy() {
        return temperature == 0;
    }

    public SamplingParams withTemperature(double t) {
        return new SamplingParams(t, topK, topP, repetitionPenalty, seed);
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(temperature, k, topP, repetitionPenalty, seed);
    }

    public SamplingParams withTopP(double p) {
        return new SamplingParams(temperature, topK, p, repetitionPenalty, seed);
    }

    public SamplingParams withRepetitionPenalty(double r) {
        return new SamplingParams(temperature, topK, topP, r, seed);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(temperature, topK, topP, repetitionPenalty, s);
    }
}
