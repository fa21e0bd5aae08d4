package jmlc.engine.bench;

import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.tune.Measurement;
import jmlc.compiler.tune.Measurer;
import jmlc.compiler.tune.TuningRecord;
import jmlc.compiler.tune.TuningTask;
import jmlc.engine.api.Backends;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.api.ModelLoader;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.Progress;
import jmlc.engine.model.SyntheticModels;
import jmlc.engine.runtime.TuningSetup;
import jmlc.engine.tuning.TuningDatabase;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Knob values against each other in one run on one card (bench/knob-compare.sh runs it): each
 * variant (a few knob values laid over what every matching kernel compiles with now) timed per
 * kernel by the tuner's measurer (reference check, device events, weights rotated past the cache,
 * median of repeats), then, with {@code --decode}, the whole model's decode and prefill-512 tok/s
 * with every matching kernel compiled that way (a tuning database per variant), and last with each
 * kernel compiled as its fastest variant was ("best"). The question it
 * answers: what does a design choice a rule exposes as a knob do, kernel by kernel and end to end.
 *
 * <pre>java ... jmlc.engine.bench.KnobCompare [--model synthetic:llama-2-7b] [--device cuda:0] [--kernels REGEX]
 *     [--decode | --decode-only NAME,NAME] --variant NAME:knob=value,knob=value ... [--out DIR]</pre>
 * {@code --decode-only} runs only the named variants end to end ("best" among them).
 * A variant sets only the knobs a kernel's space has; {@code NAME:} alone is what the kernels compile with now.
 * A knob named {@code KIND.knob} is a program's own (a build-level rewrite's, such as
 * {@code decode_weight_prefetch.mib} or {@code decode_persistent.kernels}): no kernel is timed with it, and end to end
 * the variant's database sets it.
 */
public final class KnobCompare {
    private static final PrintStream out = System.out;
    /** The variant end to end with each kernel compiled as its fastest variant was. */
    static final String BEST = "best";

    record Variant(String name, Map<String, Integer> knobs) {
        /** The program knobs ({@code KIND.knob}) as database records for {@code target}: set, not measured. */
        List<TuningRecord> programRecords(jmlc.compiler.target.Target target) {
            Map<String, Map<String, Integer>> byKind = new LinkedHashMap<>();
            knobs.forEach((k, v) -> {
                int dot = k.indexOf('.');
                if (dot > 0) byKind.computeIfAbsent(k.substring(0, dot), x -> new LinkedHashMap<>()).put(k.substring(dot + 1), v);
            });
            List<TuningRecord> out = new ArrayList<>();
            byKind.forEach((kind, values) -> out.add(new TuningRecord(new jmlc.compiler.schedule.KernelSignature(kind, "", target).toString(), values,
                    0, 0, 1, 0, false, "", 1, Instant.now().toString(), "knob-compare: set by the variant, not measured")));
            return out;
        }

        static Variant parse(String s) {
            int colon = s.indexOf(':');
            if (colon <= 0) throw new IllegalArgumentException("--variant expects NAME:knob=value,..., found '" + s + "'");
            Map<String, Integer> k = new LinkedHashMap<>();
            for (String kv : s.substring(colon + 1).split(",")) {
                if (kv.isBlank()) continue;
                String[] p = kv.split("=");
                if (p.length != 2) throw new IllegalArgumentException("--variant " + s + ": expected knob=value, found '" + kv + "'");
                k.put(p[0].strip(), Integer.parseInt(p[1].strip()));
            }
            String name = s.substring(0, colon);
            if (name.equals(BEST)) throw new IllegalArgumentException("--variant " + s + ": '" + BEST + "' names each kernel's fastest variant; choose another name");
            return new Variant(name, k);
        }
    }

    public static void main(String[] args) throws IOException {
        String model = "synthetic:llama-2-7b", device = "cuda:0", kernels = "gemvh";
        QuantMode quant = QuantMode.Q4F16_1;
        boolean decode = false;
        List<String> decodeOnly = null;
        Path dir = Path.of(".");
        List<Variant> variants = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = args[++i];
                case "--device" -> device = args[++i];
                case "--kernels" -> kernels = args[++i];
                case "--quant" -> quant = QuantMode.parse(args[++i]);
                case "--decode" -> decode = true;
                case "--decode-only" -> {
                    decode = true;
                    decodeOnly = List.of(args[++i].split(","));
                }
                case "--variant" -> variants.add(Variant.parse(args[++i]));
                case "--out" -> dir = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; expected --model, --device, --kernels, --quant, --decode, --decode-only, --variant, --out");
            }
        }
        if (variants.size() < 2) throw new IllegalArgumentException("give at least two --variant NAME:knob=value,...");
        Files.createDirectories(dir);
        Backends.Resolved dev = Backends.resolve(device);
        ModelConfig config = SyntheticModels.require(model);
        int ctx = Math.min(config.maxPositions(), ModelLoader.DEFAULT_MAX_CONTEXT);
        CompiledModel compiled = CompiledModel.compile(config, quant, ctx, false, java.util.Set.of(), ModelLoader.MAX_STEP_TOKENS);
        var include = Pattern.compile(kernels).asPredicate();
        Map<Variant, List<TuningRecord>> records = new LinkedHashMap<>();
        variants.forEach(v -> records.put(v, new ArrayList<>()));
        // per kernel, the fastest variant's record: end to end as the variant "best" (each kernel its own)
        List<TuningRecord> best = new ArrayList<>();
        List<String> bestNames = new ArrayList<>();
        double[] stepMs = new double[variants.size()];
        String how;
        jmlc.engine.runtime.DeviceIdentity identity;
        jmlc.compiler.target.Target target;
        out.printf(Locale.ROOT, "== per kernel on %s (%s), %s %s%n", dev.device().name(), device, model, quant);
        String deviceId = device;
        try (TuningSetup setup = dev.backend().tuning(compiled, dev.device(), new TuningSetup.Options(512, 256, include), Progress.NONE)
                .orElseThrow(() -> new IllegalArgumentException(deviceId + " has no kernels to tune"))) {
            Measurer measurer = setup.measurer();
            identity = setup.device();
            target = setup.tasks().getFirst().signature().target();
            how = measurer.describe();
            out.printf(Locale.ROOT, "%-62s %4s", "kernel (timed as)", "uses");
            for (Variant v : variants) out.printf(Locale.ROOT, " %18s", v.name());
            out.println();
            for (TuningTask task : setup.tasks()) {
                List<Map<String, Integer>> cands = new ArrayList<>();
                for (Variant v : variants) {
                    Map<String, Integer> c = new LinkedHashMap<>(task.current());
                    v.knobs().forEach((k, val) -> { if (c.containsKey(k)) c.put(k, val); });
                    cands.add(c);
                }
                List<Measurement> ms;
                try (Measurer.Session s = measurer.open(task)) {
                    ms = s.measure(cands, Double.POSITIVE_INFINITY);
                }
                long bytes = ModelWeights.bytesOf(task.region());
                out.printf(Locale.ROOT, "%-62s %4d", task.signature().key() + (task.decode() ? "" : " (prefill)"), task.uses());
                TuningRecord fastest = null;
                String fastestName = null;
                for (int i = 0; i < variants.size(); i++) {
                    Measurement m = ms.get(i);
                    if (m instanceof Measurement.Timed t) {
                        stepMs[i] += t.ms() * task.uses();
                        out.printf(Locale.ROOT, " %7.1f us %5.0f GB/s", 1000 * t.ms(), bytes / (t.ms() * 1e-3) / 1e9);
                        TuningRecord r = new TuningRecord(task.signature().toString(), m.knobs(), t.ms(), t.ms(), 1, 0, false,
                                task.timedAs(), task.uses(), Instant.now().toString(), how);
                        records.get(variants.get(i)).add(r);
                        if (fastest == null || r.bestMs() < fastest.bestMs()) {
                            fastest = r;
                            fastestName = variants.get(i).name();
                        }
                    } else {
                        out.printf(Locale.ROOT, " %18s", "refused");
                        out.println("\n    " + variants.get(i).name() + " refused: " + ((Measurement.Rejected) m).reason());
                    }
                }
                out.println();
                StringBuilder res = new StringBuilder();
                for (int i = 0; i < variants.size(); i++)
                    if (ms.get(i) instanceof Measurement.Timed t && !t.resources().isEmpty()) res.append(res.isEmpty() ? "" : " | ").append(variants.get(i).name()).append(": ").append(t.resources());
                if (!res.isEmpty()) out.println("    " + res);
                if (fastest != null) {
                    best.add(fastest);
                    bestNames.add(task.signature().key() + ": " + fastestName);
                }
            }
            out.printf(Locale.ROOT, "%-67s", "sum over a step (time x uses)");
            for (double s : stepMs) out.printf(Locale.ROOT, " %7.3f ms %8s", s, "");
            out.printf(Locale.ROOT, "%n%-67s %7.3f ms%n", "the fastest variant per kernel", best.stream().mapToDouble(r -> r.bestMs() * r.uses()).sum());
            bestNames.forEach(l -> out.println("  " + l));
        }
        if (!decode) return;
        out.println("\n== end to end, every matching kernel compiled with each variant");
        LoadOptions load = LoadOptions.defaults().device(device).quant(quant);
        List<String> lines = new ArrayList<>();
        List<Variant> all = new ArrayList<>(variants);
        int failed = 0;
        Variant fastestEach = new Variant(BEST, Map.of());
        all.add(fastestEach);
        records.put(fastestEach, best);
        for (Variant v : all) {
            if (decodeOnly != null && !decodeOnly.contains(v.name())) continue;
            Path db = dir.resolve("knob-compare-" + v.name());
            if (Files.exists(db)) throw new IllegalArgumentException(db + " exists: use an empty --out");
            List<TuningRecord> saved = new ArrayList<>(records.get(v));
            saved.addAll(v.programRecords(target));
            TuningDatabase.save(db, identity, saved);
            System.setProperty("jmlc.tuning", db.toString());
            out.println("-- " + v.name() + " " + v.knobs());
            try {
                TuneBench.Speeds s = TuneBench.bench(model, load);
                lines.add(String.format(Locale.ROOT, "%-14s decode %7.1f tok/s   prefill-512 %7.0f tok/s   %s", v.name(), s.decode(), s.prefill(),
                        v == fastestEach ? "each kernel its fastest variant (above)" : v.knobs()));
            } catch (RuntimeException e) { // one variant that fails to load or run costs only its own line
                e.printStackTrace(out);
                lines.add(String.format(Locale.ROOT, "%-14s FAILED: %s", v.name(), e));
                failed++;
            }
        }
        out.println("\n==== summary: " + model + " " + quant + " on " + dev.device().name());
        lines.forEach(out::println);
        if (failed > 0) System.exit(1);
    }
}
