package jmlc.engine.cli;

import jmlc.engine.api.ChatModule;
import jmlc.engine.bench.Spread;
import jmlc.engine.bench.WarmUp;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.generate.GenerationStats;
import jmlc.engine.sampling.SamplingParams;
import jmlc.engine.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The benchmark protocol (DESIGN.md): batch 1, a one-token prompt, a forced number of greedy
 * decoded tokens; untimed warm-up runs first ({@link WarmUp}: the JIT compiles the CPU's loops, a
 * GPU loads its kernels), then timed runs, reported as llama-bench does: the mean and standard deviation of
 * prefill and decode tokens/s, and decode as a % of the memory-bandwidth roofline. Used by
 * {@code jmlc bench} and {@code jmlc demo}.
 */
final class Benchmark {
    private Benchmark() {}

    /** What was measured: the timed runs (after {@code warmups} untimed ones), reported as mean ± standard deviation. */
    record Result(int promptTokens, int genTokens, int warmups, List<GenerationStats> runs, Roofline roofline, Optional<Bandwidth> bandwidth) {

        Spread prefillSpread() {
            return Spread.of(runs.stream().map(GenerationStats::prefillTokensPerSecond).toList());
        }

        Spread decodeSpread() {
            return Spread.of(runs.stream().map(GenerationStats::decodeTokensPerSecond).toList());
        }

        double prefill() {
            return prefillSpread().mean();
        }

        double decode() {
            return decodeSpread().mean();
        }

        double bytesPerToken() {
            return roofline.bytesPerToken(Roofline.averagePosition(promptTokens, genTokens));
        }

        /** The roofline's tok/s, if a bandwidth is known. */
        Optional<Double> rooflineTokensPerSecond() {
            return bandwidth.map(b -> roofline.tokensPerSecond(b.bytesPerSecond(), Roofline.averagePosition(promptTokens, genTokens)));
        }
    }

    /** The protocol's prompt: one token (the BOS token, else the first token of "Hello"); or {@code text} encoded with BOS. */
    static int[] prompt(Tokenizer tok, String text) {
        if (text != null) return tok.encode(text, true);
        if (tok.bosId().isPresent()) return new int[] {tok.bosId().getAsInt()};
        return new int[] {tok.encode("Hello", false)[0]};
    }

    /** The timed runs' stats and how many warm-up runs came before them. */
    record Runs(int warmups, List<GenerationStats> timed) {}

    /**
     * Runs the protocol: warm-up runs (untimed, as {@code warmUp} says), then {@code runs} timed
     * ones. A run that takes more than a few seconds shows its decoding on stderr; each run's line
     * (warm-up runs marked untimed) is printed when it ends.
     */
    static Runs run(CliContext ctx, ChatModule cm, int[] prompt, int gen, WarmUp warmUp, int runs) {
        GenerationConfig cfg = new GenerationConfig(gen, SamplingParams.GREEDY, Set.of(), true);
        ProgressBar bar = ProgressBar.after(ctx, ProgressBar.QUIET_SECONDS);
        int warmups = 0;
        long t0 = System.nanoTime();
        while (warmUp.another(warmups, System.nanoTime() - t0)) {
            String name = "warm-up run " + (warmups + 1);
            once(cm, prompt, cfg, bar, name);
            bar.finish(describeRun(name, cm.stats()) + " (untimed)");
            warmups++;
        }
        List<GenerationStats> timed = new ArrayList<>();
        for (int i = 1; i <= runs; i++) {
            String name = "run " + i + "/" + runs;
            once(cm, prompt, cfg, bar, name);
            timed.add(cm.stats());
            bar.finish(describeRun(name, cm.stats()));
        }
        return new Runs(warmups, timed);
    }

    private static void once(ChatModule cm, int[] prompt, GenerationConfig cfg, ProgressBar bar, String name) {
        int[] done = {0};
        bar.update(name + ": decoding", 0, cfg.maxTokens());
        cm.generateTokens(prompt, cfg, id -> bar.update(name + ": decoding", ++done[0], cfg.maxTokens()));
    }

    static String describeRun(String name, GenerationStats s) {
        return String.format(Locale.ROOT, "%s: prefill %.1f tok/s (%d tokens, %.0f ms), decode %.1f tok/s (%d tokens, %.2f s)",
                name, s.prefillTokensPerSecond(), s.prefillTokens(), s.prefillNanos() / 1e6, s.decodeTokensPerSecond(), s.decodeTokens(), s.decodeNanos() / 1e9);
    }

    /** The summary lines: prefill, decode (mean ± standard deviation of the timed runs), roofline. */
    static List<String> summary(Result r) {
        List<String> lines = new ArrayList<>();
        int n = r.runs().size();
        String of = String.format(Locale.ROOT, " (%s%d timed run%s after %d warm-up run%s)", n > 1 ? "mean ± standard deviation of " : "",
                n, n == 1 ? "" : "s", r.warmups(), r.warmups() == 1 ? "" : "s");
        lines.add("prefill:  " + r.prefillSpread().format() + " tok/s" + of);
        lines.add("decode:   " + r.decodeSpread().format() + " tok/s" + of);
        String perToken = decimalBytes(r.bytesPerToken()) + " read per token (weights " + decimalBytes(r.roofline().weightBytes() - r.roofline().embeddingBytes())
                + " + KV cache at position " + Math.round(Roofline.averagePosition(r.promptTokens(), r.genTokens())) + ")";
        if (r.bandwidth().isPresent()) {
            double roof = r.rooflineTokensPerSecond().orElseThrow();
            lines.add(String.format(Locale.ROOT, "roofline: %.1f tok/s = %s / %s; decode reaches %.1f%% of it", roof,
                    r.bandwidth().get().describe(), perToken, 100 * r.decode() / roof));
        } else {
            lines.add("roofline: unknown: the device reports no memory bandwidth; pass --bandwidth GB/s (" + perToken + ")");
        }
        return lines;
    }

    /** The result as JSON fields, for {@code --json}. */
    static Map<String, Object> json(Result r, ChatModule cm) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", cm.model().spec());
        m.put("quant", cm.model().quant().id());
        m.put("device", cm.model().runner().device().id());
        m.put("prompt_tokens", r.promptTokens());
        m.put("gen_tokens", r.genTokens());
        m.put("warmup_runs", r.warmups());
        m.put("prefill_tok_s", r.prefill());
        m.put("prefill_tok_s_stddev", r.prefillSpread().stddev());
        m.put("decode_tok_s", r.decode());
        m.put("decode_tok_s_stddev", r.decodeSpread().stddev());
        m.put("runs", r.runs().stream().map(s -> Map.of("prefill_tok_s", s.prefillTokensPerSecond(), "decode_tok_s", s.decodeTokensPerSecond())).toList());
        m.put("bytes_per_token", r.bytesPerToken());
        r.bandwidth().ifPresent(b -> {
            m.put("bandwidth_gb_s", b.bytesPerSecond() / 1e9);
            m.put("bandwidth_source", b.source());
            m.put("roofline_tok_s", r.rooflineTokensPerSecond().orElseThrow());
            m.put("roofline_percent", 100 * r.decode() / r.rooflineTokensPerSecond().orElseThrow());
        });
        return m;
    }

    /** 3.85 GB, 12.3 MB: decimal units, as bandwidths are quoted. */
    static String decimalBytes(double b) {
        if (b >= 1e9) return String.format(Locale.ROOT, "%.2f GB", b / 1e9);
        if (b >= 1e6) return String.format(Locale.ROOT, "%.1f MB", b / 1e6);
        return String.format(Locale.ROOT, "%.1f kB", b / 1e3);
    }
}
