package jmlc.engine.generate;

import java.util.Set;
import jmlc.engine.sampling.SamplingParams;

/**
 * What one generation does.
 *
 * @param maxTokens    the most tokens to generate
 * @param sampling     how each token is chosen
 * @param stopTokens   ids that end the generation (not emitted)
 * @param ignoreStop   generate exactly {@code maxTokens} (benchmarks: forced length)
 */
public record GenerationConfig(int maxTokens, SamplingParams sampling, Set<Integer> stopTokens, boolean ignoreStop) {

    public GenerationConfig {
        if (maxTokens < 0) throw new IllegalArgumentException("max tokens must be >= 0, found " + maxTokens);
        stopTokens = Set.copyOf(stopTokens);
    }

    public static GenerationConfig greedy(int maxTokens, Set<Integer> stopTokens) {
        return new GenerationConfig(maxTokens, SamplingParams.GREEDY, stopTokens, false);
    }

    public GenerationConfig withSampling(SamplingParams s) {
        return new GenerationConfig(maxTokens, s, stopTokens, ignoreStop);
    }

    public GenerationConfig withMaxTokens(int n) {
        return new GenerationConfig(n, sampling, stopTokens, ignoreStop);
    }
}
