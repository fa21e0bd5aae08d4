package jmlc.engine.cli;

import jmlc.engine.api.ChatModule;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.generate.GenerationStats;
import jmlc.engine.sampling.SamplingParams;
import jmlc.engine.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * The seed's benchmark protocol (DESIGN.md): batch 1, a one-token prompt, a forced number of
 * greedy decoded tokens; prefill and decode tokens/s, and decode as a % of the memory-bandwidth
 * roofline. Used by {@code jmlc bench} and {@code jmlc demo}.
 */
final class Benchmark {
    private Benchmark() {}

    /** What was measured, over {@code runs}; medians reported. */
    record Result(int promptTokens, int genTokens, List<GenerationStats> runs, Roofline roofline, Optional<Bandwidth> bandwidth) {

        double prefill() {
            return median(GenerationStats::prefillTokensPerSecond);
        }

        double decode() {
            return median(GenerationStats::decodeTokensPerSecond);
        }

        double bytesPerToken() {
            return roofline.bytesPerToken(Roofline.averagePosition(promptTokens, genTokens));
        }

        /** The roofline's tok/s, if a bandwidth is known. */
        Optional<Double> rooflineTokensPerSecond() {
            return bandwidth.map(b -> roofline.tokensPerSecond(b.bytesPerSecond(), Roofline.averagePosition(promptTokens, genTokens)));
        }

        private double median(ToDoubleFunction<GenerationStats> f) {
            List<Double> v = new ArrayList<>(runs.stream().map(f::applyAsDouble).toList());
            v.sort(Comparator.naturalOrder());
            int n = v.size();
            return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
        }
    }

    /** The protocol's prompt: one token (the BOS token, else the first token of "Hello"); or {@code text} encoded with BOS. */
    static int[] prompt(Tokenizer tok, String text) {
        if (text != null) return tok.encode(text, true);
        if (tok.bosId().isPresent()) return new int[] {tok.bosId().getAsInt()};
        return new int[] {tok.encode("Hello", false)[0]};
    }

    /** Runs the protocol {@code runs} times; {@code onRun} sees each run's stats as it ends. */
    static List<GenerationStats> run(ChatModule cm, int[] prompt, int gen, int runs, java.util.function.Consumer<GenerationStats> onRun) {
        GenerationConfig cfg = new GenerationConfig(gen, SamplingParams.GREEDY, Set.of(), true);
        List<GenerationStats> all = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            cm.generateTokens(prompt, cfg);
            all.add(cm.stats());
            onRun.accept(cm.stats());
        }
        return all;
    }

    static String describeRun(int i, int runs, GenerationStats s) {
        return String.format(Locale.ROOT, "run %d/%d: prefill %.1f tok/s (%d tokens, %.0f ms), decode %.1f tok/s (%d tokens, %.2f s)",
                i, runs, s.prefillTokensPerSecond(), s.prefillTokens(), s.prefillNanos() / 1e6, s.decodeTokensPerSecond(), s.decodeTokens(), s.decodeNanos() / 1e9);
    }

    /** The summary lines: prefill, decode, roofline. */
    static List<String> summary(Result r) {
        List<String> lines = new ArrayList<>();
        String of = r.runs().size() > 1 ? String.format(Locale.ROOT, " (median of %d runs)", r.runs().size()) : "";
        lines.add(String.format(Locale.ROOT, "prefill:  %.1f tok/s%s", r.prefill(), of));
        lines.add(String.format(Locale.ROOT, "decode:   %.1f tok/s%s", r.decode(), of));
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
        m.put("prefill_tok_s", r.prefill());
        m.put("decode_tok_s", r.decode());
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
