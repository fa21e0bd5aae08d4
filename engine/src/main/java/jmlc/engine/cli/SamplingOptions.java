package jmlc.engine.cli;

import jmlc.engine.sampling.SamplingParams;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** How next tokens are chosen: MLC chat's defaults (temperature 0.7, top-p 0.95), or --greedy. */
final class SamplingOptions {

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.7", description = "Sampling temperature; 0 is greedy (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "Nucleus sampling: keep the likeliest tokens up to probability P (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Keep the K likeliest tokens; 0 keeps all (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1.0", description = "Penalize tokens already in the context; 1 is off (default: ${DEFAULT-VALUE}).")
    double repetitionPenalty;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the sampler, so sampled replies repeat (default: random).")
    Long seed;

    @Option(names = "--greedy", description = "Always take the likeliest token (same as --temperature 0).")
    boolean greedy;

    SamplingParams params(CommandLine cmd) {
        try {
            return new SamplingParams(greedy ? 0 : temperature, topK, topP, repetitionPenalty, seed != null ? seed : System.nanoTime());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cmd, e.getMessage());
        }
    }
}
