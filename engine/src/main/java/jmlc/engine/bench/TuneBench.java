package jmlc.engine.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jmlc.compiler.tune.Measurement;
import jmlc.compiler.tune.TaskResult;
import jmlc.compiler.tune.Tuner;
import jmlc.compiler.tune.TuningTask;
import jmlc.engine.api.ChatModule;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.api.ModelTuning;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.model.Progress;
import jmlc.engine.sampling.SamplingParams;
import jmlc.engine.tuning.TuningDatabase;
import jmlc.engine.tuning.TuningTable;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * Tuned against default in one run on one card (bench/tune.sh runs it): decode tok/s (the seed
 * protocol: a one-token prompt, 512 greedy tokens) and prefill-512 tok/s with the rules' defaults,
 * then {@code jmlc tune} within a budget into a fresh database, then the same benchmarks with the
 * tuned kernels; a short table last. Each benchmark is the median of three runs after a warm-up.
 *
 * <pre>java ... jmlc.engine.bench.TuneBench [--model synthetic:llama-2-7b] [--quant q4f16_1] [--device cuda:0] [--budget 3m] [--out DIR]</pre>
 * The database goes to {@code DIR/tuning} (never the user's), the results to {@code DIR/tune.json}.
 */
public final class TuneBench {
    private static final PrintStream out = System.out;

    /** Decode and prefill-512 tok/s, the median of three runs each. */
    record Speeds(double decode, double prefill, double loadSeconds) {}

    public static void main(String[] args) throws IOException {
        String model = "synthetic:llama-2-7b", quant = "q4f16_1", device = "cuda:0";
        Duration budget = Duration.ofMinutes(3);
        Path dir = Path.of(".");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = args[++i];
                case "--quant" -> quant = args[++i];
                case "--device" -> device = args[++i];
                case "--budget" -> budget = ModelTuning.parseBudget(args[++i]);
                case "--out" -> dir = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; expected --model, --quant, --device, --budget, --out");
            }
        }
        Path tuning = Files.createDirectories(dir).resolve("tuning");
        if (Files.exists(tuning)) throw new IllegalArgumentException(tuning + " exists: the defaults must be measured without a database; use an empty --out");
        System.setProperty("jmlc.tuning", tuning.toString());
        LoadOptions load = LoadOptions.defaults().device(device).quant(quant);

        out.println("== defaults (no tuning database)");
        Speeds before = bench(model, load);
        out.println("== tuning within " + budget.toSeconds() + " s");
        long t0 = System.nanoTime();
        ModelTuning.Result r = ModelTuning.tune(model, load, ModelTuning.Options.of(budget), progress(), Progress.NONE);
        double tuneSeconds = (System.nanoTime() - t0) / 1e9;
        out.println("== tuned (" + r.database() + ")");
        Speeds after = bench(model, load);

        out.println("\n==== per kernel");
        TuningTable.of(r.report()).forEach(out::println);
        r.stageLines().forEach(out::println);
        out.println("\n==== candidates per kernel, time over the defaults' (the search's evidence)");
        for (TaskResult t : r.report().results()) out.println("  " + distribution(t));
        out.println("\n==== summary: " + model + " " + quant + " on " + r.device().name() + " (" + r.identity().driver() + ")");
        out.println(String.format(Locale.ROOT, "%-16s %10s %10s %8s", "", "default", "tuned", "gain"));
        out.println(String.format(Locale.ROOT, "%-16s %10.1f %10.1f %+7.1f%%", "decode tok/s", before.decode(), after.decode(), 100 * (after.decode() / before.decode() - 1)));
        out.println(String.format(Locale.ROOT, "%-16s %10.0f %10.0f %+7.1f%%", "prefill-512 tok/s", before.prefill(), after.prefill(), 100 * (after.prefill() / before.prefill() - 1)));
        out.println(String.format(Locale.ROOT, "tuning took %.0f s (budget %d s); %d kernel signatures; load %.1f s before, %.1f s after",
                tuneSeconds, budget.toSeconds(), r.report().results().size(), before.loadSeconds(), after.loadSeconds()));
        Files.writeString(dir.resolve("tune.json"), json(model, quant, r, before, after, tuneSeconds));
        out.println("results: " + dir.resolve("tune.json") + ", database: " + r.database());
    }

    /** Loads {@code model} (with whatever database is there) and measures it. */
    static Speeds bench(String model, LoadOptions load) {
        long t0 = System.nanoTime();
        try (ChatModule cm = ChatModule.load(model, load)) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            int vocab = cm.model().config().vocabSize();
            GenerationConfig decode = new GenerationConfig(512, SamplingParams.GREEDY, Set.of(), true);
            GenerationConfig prefill = new GenerationConfig(1, SamplingParams.GREEDY, Set.of(), true);
            int[] one = {1}, p512 = new Random(2).ints(512, 3, vocab).toArray();
            cm.generateTokens(one, decode); // warm-up
            cm.generateTokens(p512, prefill);
            double[] d = new double[3], p = new double[3];
            for (int i = 0; i < 3; i++) {
                cm.generateTokens(one, decode);
                d[i] = cm.stats().decodeTokensPerSecond();
                cm.generateTokens(p512, prefill);
                p[i] = cm.stats().prefillTokensPerSecond();
            }
            Speeds s = new Speeds(median(d), median(p), loadSeconds);
            out.println(String.format(Locale.ROOT, "  decode %.1f tok/s %s, prefill-512 %.0f tok/s %s, load %.1f s", s.decode(), Arrays.toString(d), s.prefill(), Arrays.toString(p), loadSeconds));
            return s;
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static Tuner.Listener progress() {
        return new Tuner.Listener() {
            @Override
            public void started(List<TuningTask> tasks, Duration b) {
                out.println("  " + tasks.size() + " kernel signatures");
            }

            @Override
            public void taskFinished(TaskResult r, int done, int of) {
                out.println(String.format(Locale.ROOT, "  [%d/%d] %s: %d timed, %d refused, %.1f s%s", done, of, r.task().signature(), r.timedCount(), r.rejectedCount(), r.seconds(),
                        r.defaults() == null ? "" : String.format(Locale.ROOT, ", %.4f -> %.4f ms (%.3fx) %s", r.defaults().ms(), r.best().ms(), r.gain(), r.describeBest())));
                r.all().stream().filter(m -> m instanceof Measurement.Rejected).limit(3).forEach(m -> out.println("      refused " + m));
            }
        };
    }

    /** The candidates' times over the defaults': fastest, quartiles, slowest. */
    static String distribution(TaskResult t) {
        double[] rel = t.all().stream().filter(m -> m instanceof Measurement.Timed).mapToDouble(m -> ((Measurement.Timed) m).ms()).toArray();
        if (t.defaults() == null || rel.length == 0) return t.task().signature() + ": not measured";
        for (int i = 0; i < rel.length; i++) rel[i] /= t.defaults().ms();
        Arrays.sort(rel);
        return String.format(Locale.ROOT, "%-58s n=%-4d fastest %.3f  p25 %.3f  median %.3f  p75 %.3f  slowest %.3f", t.task().signature(), rel.length,
                rel[0], rel[rel.length / 4], rel[rel.length / 2], rel[3 * rel.length / 4], rel[rel.length - 1]);
    }

    private static String json(String model, String quant, ModelTuning.Result r, Speeds before, Speeds after, double tuneSeconds) throws IOException {
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = m.createObjectNode();
        root.put("model", model).put("quant", quant).put("device", r.device().name()).put("driver", r.identity().driver());
        root.put("decode_default", before.decode()).put("decode_tuned", after.decode());
        root.put("prefill512_default", before.prefill()).put("prefill512_tuned", after.prefill());
        root.put("tuning_seconds", tuneSeconds).put("how", r.report().how());
        ArrayNode kernels = root.putArray("kernels");
        for (TaskResult t : r.report().results()) {
            ObjectNode k = kernels.addObject();
            k.put("signature", t.task().signature().toString()).put("uses", t.task().uses()).put("timed_as", t.task().timedAs());
            if (t.defaults() != null) k.put("default_ms", t.defaults().ms()).put("best_ms", t.best().ms()).put("best", t.describeBest());
            ArrayNode cands = k.putArray("candidates");
            List<Measurement> all = new ArrayList<>(t.all());
            for (Measurement c : all) {
                ObjectNode o = cands.addObject();
                o.put("knobs", t.describe(c.knobs()));
                if (c instanceof Measurement.Timed tm) o.put("ms", tm.ms()).put("rel_error", tm.relError());
                else o.put("refused", ((Measurement.Rejected) c).reason());
            }
        }
        return m.writeValueAsString(root);
    }
}
