package jmlc.engine.bench;

import jmlc.engine.api.ChatModule;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.gpu.GpuBackend;
import jmlc.engine.runtime.gpu.GpuDiagnostics;
import jmlc.engine.runtime.gpu.GpuRunner;
import jmlc.engine.sampling.SamplingParams;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The same models through several GPU backends on the same card in one run (bench/vulkan-vs-cuda.sh):
 * decode with the seed's protocol (one-token prompt, 512 greedy tokens, the second of two runs
 * counts), the captured decode step's device time, and prefill of 512 tokens; a table last with each
 * backend's decode as a share of the first backend named after it (the reference).
 *
 * <pre>java ... jmlc.engine.bench.BackendComparison [--backends vulkan,cuda] [--models M,...] [--quant q4f16_1] [--target-share 0.85] [--out DIR]</pre>
 * Exit status 1 when a backend fails to load or run, or when the first backend's 7B decode is below
 * the target share of the reference's.
 */
public final class BackendComparison {
    record Row(String model, String backend, String device, double decode, double stepMs, double prefill, double loadS) {}

    public static void main(String[] args) throws IOException {
        List<String> backends = List.of("vulkan", "cuda");
        List<String> models = List.of("synthetic:llama-2-7b", "synthetic:llama-2-13b");
        String quant = "q4f16_1";
        double target = 0.85;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backends" -> backends = List.of(args[++i].split(","));
                case "--models" -> models = List.of(args[++i].split(","));
                case "--quant" -> quant = args[++i];
                case "--target-share" -> target = Double.parseDouble(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Map<String, DeviceInfo> devices = new LinkedHashMap<>();
        for (String b : backends) {
            GpuBackend backend = BenchDevices.backend(b);
            var found = BenchDevices.device(backend, b);
            if (found.isEmpty()) {
                System.out.println("no " + b + " device: " + backend.unavailable());
                System.exit(2);
            }
            devices.put(b, found.get());
            System.out.println(b + ": " + found.get() + " " + found.get().properties());
        }
        List<Row> rows = new ArrayList<>();
        int failures = 0;
        for (String model : models)
            for (var e : devices.entrySet()) {
                try {
                    Row r = measure(model, quant, e.getKey(), e.getValue());
                    rows.add(r);
                    System.out.printf(Locale.ROOT, "%s %s on %s: decode %.1f tok/s (captured step %.3f ms), prefill-512 %.0f tok/s, load %.1f s%n",
                            model, quant, r.device(), r.decode(), r.stepMs(), r.prefill(), r.loadS());
                } catch (RuntimeException ex) {
                    failures++;
                    ex.printStackTrace(System.out);
                    System.out.println("FAIL " + model + " on " + e.getKey() + ": " + ex);
                }
            }
        List<String> table = table(rows, backends, quant);
        boolean met = meetsTarget(rows, backends, target);
        table.add(met ? String.format(Locale.ROOT, "%s decode of the first model >= %.0f%% of %s's: yes", backends.getFirst(), 100 * target, backends.size() > 1 ? backends.get(1) : "itself")
                : String.format(Locale.ROOT, "%s decode of the first model >= %.0f%% of %s's: NO", backends.getFirst(), 100 * target, backends.size() > 1 ? backends.get(1) : "itself"));
        System.out.println("\n==== " + String.join(" vs ", backends) + ", same card, same run ====");
        table.forEach(System.out::println);
        if (out != null) {
            Files.createDirectories(out);
            Files.write(out.resolve("backend-comparison.txt"), table);
            StringBuilder tsv = new StringBuilder("model\tbackend\tdevice\tdecode_tok_s\tstep_ms\tprefill512_tok_s\tload_s\n");
            for (Row r : rows)
                tsv.append(String.format(Locale.ROOT, "%s\t%s\t%s\t%.2f\t%.4f\t%.1f\t%.1f%n", r.model(), r.backend(), r.device(), r.decode(), r.stepMs(), r.prefill(), r.loadS()));
            Files.writeString(out.resolve("backend-comparison.tsv"), tsv);
        }
        System.exit(failures == 0 && met ? 0 : 1);
    }

    static Row measure(String model, String quant, String backend, DeviceInfo dev) {
        long t0 = System.nanoTime();
        try (ChatModule cm = ChatModule.load(model, LoadOptions.defaults().device(dev.id()).quant(quant))) {
            double loadS = (System.nanoTime() - t0) / 1e9;
            GenerationConfig decode = new GenerationConfig(512, SamplingParams.GREEDY, Set.of(), true);
            int[] one = {1};
            cm.generateTokens(one, decode); // warm: JIT, caches, clocks
            cm.generateTokens(one, decode);
            double decodeTps = cm.stats().decodeTokensPerSecond();
            GpuRunner r = (GpuRunner) cm.model().runner();
            float stepMs = new GpuDiagnostics(r).timeDecodeSteps(100) / 100;
            int[] p512 = new Random(2).ints(512, 3, cm.model().config().vocabSize()).toArray();
            GenerationConfig first = new GenerationConfig(1, SamplingParams.GREEDY, Set.of(), true);
            cm.generateTokens(p512, first);
            cm.generateTokens(p512, first);
            return new Row(model, backend, dev.name(), decodeTps, stepMs, cm.stats().prefillTokensPerSecond(), loadS);
        }
    }

    /** One line a model and backend; decode as a share of the reference backend's (the second named) on the same model. */
    static List<String> table(List<Row> rows, List<String> backends, String quant) {
        List<String> t = new ArrayList<>();
        t.add(String.format(Locale.ROOT, "%-24s %-8s %12s %10s %12s %10s", "model (" + quant + ")", "backend", "decode tok/s", "step ms", "prefill-512", "decode %"));
        String ref = backends.size() > 1 ? backends.get(1) : backends.getFirst();
        for (Row r : rows) {
            Row base = rows.stream().filter(x -> x.model().equals(r.model()) && x.backend().equals(ref)).findFirst().orElse(null);
            String share = base == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * r.decode() / base.decode());
            t.add(String.format(Locale.ROOT, "%-24s %-8s %12.1f %10.3f %12.0f %10s", r.model(), r.backend(), r.decode(), r.stepMs(), r.prefill(), share));
        }
        return t;
    }

    /** The first backend's decode on the first model at least {@code target} of the reference's (true with one backend). */
    static boolean meetsTarget(List<Row> rows, List<String> backends, double target) {
        if (backends.size() < 2 || rows.isEmpty()) return !rows.isEmpty();
        String model = rows.getFirst().model();
        var a = rows.stream().filter(r -> r.model().equals(model) && r.backend().equals(backends.get(0))).findFirst();
        var b = rows.stream().filter(r -> r.model().equals(model) && r.backend().equals(backends.get(1))).findFirst();
        return a.isPresent() && b.isPresent() && a.get().decode() >= target * b.get().decode();
    }
}
