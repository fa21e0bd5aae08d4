package jmlc.magics.llm;

import jmlc.engine.api.ChatModule;
import jmlc.engine.generate.GenerationStats;
import jmlc.engine.api.LoadedModel;

import java.nio.file.Path;
import java.util.TreeSet;

/**
 * One benchmark run: MLC's protocol ({@link ChatModule#benchmarkGenerate}: encode the prompt, then
 * decode exactly {@code decodeTokens} tokens, greedy) on one model, quantization and device.
 *
 * @param model   the model's short name ({@code synthetic:tiny}, a directory's or file's name)
 * @param variant what differs from the standard pipeline: {@code -FuseAddRmsNorm}, or "" for none
 */
public record BenchRun(String device, String model, String quant, String variant, int promptTokens, int decodeTokens,
                       double prefillTokensPerSecond, double decodeTokensPerSecond, double seconds) {

    /** Runs the benchmark once on {@code cm} and reads its speeds. */
    public static BenchRun measure(ChatModule cm, String prompt, int genTokens) {
        long t0 = System.nanoTime();
        cm.benchmarkGenerate(prompt, genTokens);
        double seconds = (System.nanoTime() - t0) / 1e9;
        return of(cm, cm.stats(), seconds);
    }

    /** The run whose speeds are {@code stats}, on the model {@code cm} holds. */
    public static BenchRun of(ChatModule cm, GenerationStats stats, double seconds) {
        LoadedModel m = cm.model();
        return new BenchRun(m.runner().device().id(), shortName(m.spec()), m.quant().id(), variant(cm),
                stats.prefillTokens(), stats.decodeTokens(), stats.prefillTokensPerSecond(), stats.decodeTokensPerSecond(), seconds);
    }

    /** What sets this configuration apart in a chart legend: {@code synthetic:tiny q4f16_1 -FuseAddRmsNorm}. */
    public String configuration() {
        return model + " " + quant + (variant.isEmpty() ? "" : " " + variant);
    }

    static String shortName(String spec) {
        if (spec.startsWith("synthetic:")) return spec;
        Path p = Path.of(spec).getFileName();
        return p == null ? spec : p.toString();
    }

    private static String variant(ChatModule cm) {
        var names = new TreeSet<String>(String.CASE_INSENSITIVE_ORDER);
        names.addAll(cm.options().disabledPasses());
        var sb = new StringBuilder();
        for (String n : names) sb.append(sb.isEmpty() ? "" : " ").append('-').append(n);
        return sb.toString();
    }
}
