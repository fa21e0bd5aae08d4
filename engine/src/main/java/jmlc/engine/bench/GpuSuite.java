package jmlc.engine.bench;

import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Precision;
import jmlc.engine.api.ChatModule;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.Checkpoints;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.TinyModels;
import jmlc.engine.format.hf.HfModelWriter;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.generate.Generator;
import jmlc.engine.sampling.Sampler;
import jmlc.engine.sampling.SamplingParams;
import jmlc.engine.model.CheckpointWeights;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.Progress;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.ModelRunner;
import jmlc.engine.runtime.cpu.CpuBackend;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.gpu.GpuBackend;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.GpuDiagnostics;
import jmlc.engine.runtime.gpu.GpuRunner;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * The GPU machine's one script (bench/gpu-suite.sh runs it): correctness of every kernel and
 * fused pattern against the reference interpreter, then benchmarks, printing a short table last.
 *
 * <pre>java ... jmlc.engine.bench.GpuSuite [check] [bench] [reopen] [--backend cuda|rocm|vulkan] [--models M,...] [--out DIR]</pre>
 * {@code check} includes {@code reopen}: the device opened and closed again and again beside the one the suite holds.
 * Knob searches are the tuner's ({@code jmlc tune}, bench/tune.sh), which replaced the GEMV and GEMM sweeps.
 * The same checks and benchmarks for every GPU platform: {@code --backend} picks which (default cuda).
 */
public final class GpuSuite {
    private final PrintStream out = System.out;
    private final List<String> summary = new ArrayList<>();
    private final StringBuilder json = new StringBuilder();
    private int failures;
    private List<String> models;
    private GpuBackend backend;
    /** The checks' KV cache type ({@code --kv-cache}); null: each quantization's. */
    private jmlc.compiler.ir.DType kvCache;

    public static void main(String[] args) throws Exception {
        Set<String> parts = new java.util.HashSet<>();
        Path outDir = null;
        List<String> models = List.of("synthetic:llama-2-7b", "synthetic:llama-2-13b", "synthetic:llama-3-8b");
        String platform = "cuda";
        jmlc.compiler.ir.DType kvCache = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out")) outDir = Path.of(args[++i]);
            else if (args[i].equals("--models")) models = List.of(args[++i].split(","));
            else if (args[i].equals("--backend")) platform = args[++i];
            else if (args[i].equals("--kv-cache")) kvCache = jmlc.engine.api.LoadOptions.parseKvCache(args[++i]);
            else parts.add(args[i]);
        }
        if (parts.isEmpty()) parts.addAll(List.of("check", "bench"));
        GpuSuite s = new GpuSuite();
        s.models = models;
        s.kvCache = kvCache;
        s.backend = BenchDevices.backend(platform);
        var found = BenchDevices.device(s.backend, platform);
        if (found.isEmpty()) {
            System.out.println("no " + platform + " device found: " + s.backend.unavailable());
            System.exit(2);
        }
        DeviceInfo gpu = found.get();
        System.out.println("device: " + gpu + " " + gpu.properties());
        // through Vulkan, one device held open from start to end: the suite opens dozens more, one after another, and
        // NVIDIA's Vulkan driver refuses new instances after a few dozen were made and destroyed in a process (the held
        // device keeps one alive for all of them; see Vk.acquire). Not through CUDA: a primary context kept alive across
        // the copy test and the loads made the 7B decode 4% slower (H200, 2026-12-04: 593 against 618 tok/s, graph step
        // 1.700 against 1.628 ms, three runs alternating)
        boolean hold = s.backend.platform().name().equals("vulkan");
        try (var held = hold ? s.backend.platform().open(gpu, RuntimeSettings.defaults()) : null) {
            if (parts.contains("check")) s.guard("check", () -> s.check(gpu));
            if (parts.contains("check") || parts.contains("reopen")) s.guard("reopen", () -> s.checkReopen(gpu));
            if (parts.contains("sweep")) throw new IllegalArgumentException("the sweeps are the tuner now: bash bench/tune.sh (jmlc tune)");
            if (parts.contains("bench")) s.guard("bench", () -> s.bench(gpu));
            Path traces = outDir;
            if (parts.contains("trace")) s.guard("trace", () -> s.trace(gpu, traces));
        }
        System.out.println("\n==== summary ====");
        s.summary.forEach(System.out::println);
        System.out.println(s.failures == 0 ? "ALL CHECKS PASSED" : s.failures + " CHECK(S) FAILED");
        if (outDir != null) Files.writeString(Files.createDirectories(outDir).resolve("gpu-suite.json"), "[" + s.json + "]\n");
        System.exit(s.failures == 0 ? 0 : 1);
    }

    private interface Part {
        void run() throws Exception;
    }

    /** Runs one part; an exception fails it and the suite goes on to the next. */
    private void guard(String name, Part p) {
        try {
            p.run();
        } catch (Throwable e) {
            failures++;
            e.printStackTrace(out);
            record("fail", name + " aborted: " + e);
        }
    }

    private void record(String kind, String line) {
        summary.add(line);
        if (!json.isEmpty()) json.append(",\n");
        json.append("{\"kind\":\"").append(kind).append("\",\"line\":\"").append(line.replace("\"", "'")).append("\"}");
    }

    // ---------------- correctness ----------------

    static ModelConfig cfg(Architecture a, int hidden, int heads, int kv, int hd, int inter, int vocab, boolean tied) {
        return new ModelConfig(a, vocab, hidden, inter, 2, heads, kv, hd, 1e-5, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 128, tied, a.attentionBias());
    }

    /**
     * A model whose f16 GEMVs stage more than 48 KiB: behind a norm, 8192 columns take 49 184 bytes, which a CUDA
     * kernel gets only by opting in to dynamic shared memory (Llama-3-70B's width; 2 layers, a small MLP and
     * vocabulary: a 1.4 GB f32 checkpoint).
     */
    static ModelConfig wideConfig() {
        return cfg(Architecture.LLAMA, 8192, 64, 8, 128, 1024, 1000, false);
    }

    void check(DeviceInfo gpu) throws IOException {
        List<ModelConfig> configs = List.of(
                cfg(Architecture.LLAMA, 128, 4, 2, 32, 256, 512, false),
                cfg(Architecture.QWEN2, 128, 4, 1, 32, 256, 512, true),
                cfg(Architecture.LLAMA, 128, 4, 2, 32, 256, 512, false).withAttentionBias(true), // Llama's attention_bias: q/k/v/o biases
                cfg(Architecture.LLAMA, 512, 4, 2, 128, 1024, 1000, false)); // head_dim 128, K not a multiple of every vector width
        long seed = System.nanoTime();
        out.println("check seed " + seed);
        for (ModelConfig c : configs) {
            try (Checkpoint ck = randomCheckpoint(c, seed)) {
                for (QuantMode m : QuantMode.values()) {
                    if (m == QuantMode.Q4_0) continue; // same kernels as q4f16_1 with zero point 8; loaded from GGUF files
                    checkModel(gpu, ck, c, m, Set.of(), seed);
                    if (m == QuantMode.Q4F16_1)
                        checkModel(gpu, ck, c, m, Set.of("FuseDequantMatmul", "FuseRopeKvAppend", "FuseSiluMul", "FuseAddRmsNorm", "FuseParallelMatmuls"), seed);
                }
                greedyEqualsCpu(gpu, ck, seed);
            }
        }
        // rows whose staging exceeds 48 KiB (dynamic shared memory on CUDA), q4f16_1 only
        ModelConfig wide = wideConfig();
        try (Checkpoint ck = randomCheckpoint(wide, seed)) {
            checkModel(gpu, ck, wide, QuantMode.Q4F16_1, Set.of(), seed);
        }
    }

    /** A model of {@code c} with random weights, written as an f32 Hugging Face checkpoint in a temporary directory, opened. */
    private static Checkpoint randomCheckpoint(ModelConfig c, long seed) throws IOException {
        Path dir = Files.createTempDirectory("jmlc-gpu-check");
        HfModelWriter.write(dir, TinyModels.random(c, seed), TensorDType.F32, 1);
        return Checkpoints.open(dir);
    }

    private void checkModel(DeviceInfo gpu, Checkpoint ck, ModelConfig c, QuantMode m, Set<String> disabled, long seed) {
        CompiledModel cm = CompiledModel.compile(c, m, m.kvCacheType(kvCache), 96, false, disabled, 80);
        String what = c.architecture() + (c.attentionBias() ? "+bias" : "") + " d" + c.hiddenSize() + " hd" + c.headDim() + " " + m + (disabled.isEmpty() ? "" : " unfused")
                + (kvCache != null ? " kv " + kvCache : "");
        try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
             GpuRunner r = (GpuRunner) backend.load(cm, w, gpu, Progress.NONE)) {
            GpuDiagnostics d = new GpuDiagnostics(r);
            Random rnd = new Random(seed);
            Map<String, Double> worst = new TreeMap<>();
            // prefill program from position 0: 9 tokens (GEMMs split K) and 70 (more than one 64-row tile:
            // one split, the GEMM's own epilogue); gemm rounds operands to f16
            var ref = new ReferenceInterpreter(cm.graph(), w::get);
            for (int n : new int[] {9, 70})
                for (var nc : d.checkStep(ref, new ReferenceInterpreter.State(), rnd.ints(n, 0, c.vocabSize()).toArray(), 0))
                    judge(worst, what + " prefill " + n, nc, nc.tolerance());
            // decode program from position 0, one token a step; each position also through the short-context
            // program where the build has one (by default below 10 positions a KV head through Vulkan, 6 through
            // CUDA: 6 to 20 for these models, so every position checked here would otherwise run it alone)
            var st = new ReferenceInterpreter.State();
            for (int pos = 0; pos < 6; pos++) {
                int[] tok = {rnd.nextInt(c.vocabSize())};
                if (r.build().shortDecode() != null)
                    for (var nc : d.checkStep(ref, st, tok, pos, true)) judge(worst, what + " decode (short context)", nc, nc.tolerance());
                for (var nc : d.checkStep(ref, st, tok, pos, false)) judge(worst, what + " decode", nc, nc.tolerance());
            }
            String line = String.format("check %-42s worst rel. error per rule: %s", what, worst);
            out.println(line);
            record("check", line);
        }
    }

    private final List<String> seenFail = new ArrayList<>();

    private void judge(Map<String, Double> worst, String what, GpuDiagnostics.NodeCheck nc, double tol) {
        worst.merge(nc.rule(), nc.relError(), Math::max);
        if (!(nc.relError() <= tol)) {
            failures++;
            String line = "FAIL " + what + ": " + nc.node() + " [" + nc.kernels() + "] rel. error " + nc.relError() + " > " + tol;
            out.println(line);
            record("fail", line);
        }
    }

    /** Greedy generation on the GPU equals the CPU reference's for q0f32. */
    private void greedyEqualsCpu(DeviceInfo gpu, Checkpoint ck, long seed) {
        ModelConfig c = ck.config();
        CompiledModel cm = CompiledModel.compile(c, QuantMode.Q0F32, 64, false, Set.of(), 16);
        DeviceInfo cpuRef = new CpuBackend().detect().stream().filter(d -> d.id().equals("cpu:ref")).findFirst().orElseThrow();
        try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
             ModelRunner g = backend.load(cm, w, gpu, Progress.NONE);
             ModelRunner cpu = new CpuBackend().load(cm, w, cpuRef, Progress.NONE)) {
            int[] prompt = new Random(seed).ints(5, 0, c.vocabSize()).toArray();
            GenerationConfig cfg = GenerationConfig.greedy(24, Set.of());
            int[] a = Generator.generate(g, new int[0], 0, prompt, cfg, t -> { }, () -> false).tokens();
            int[] b = Generator.generate(cpu, new int[0], 0, prompt, cfg, t -> { }, () -> false).tokens();
            boolean same = Arrays.equals(a, b);
            String line = "check greedy q0f32 " + c.architecture() + " d" + c.hiddenSize() + ": GPU " + (same ? "==" : "!=") + " CPU reference over " + a.length + " tokens";
            if (!same) {
                // a near tie in the CPU's own logits may fall either way in f32 on another device: not a fault
                int i = 0;
                while (a[i] == b[i]) i++;
                int[] before = Arrays.copyOf(prompt, prompt.length + i);
                System.arraycopy(a, 0, before, prompt.length, i);
                float[] l = cpu.forward(before, 0);
                float gap = Math.abs(l[a[i]] - l[b[i]]), scale = 0;
                for (float v : l) scale = Math.max(scale, Math.abs(v));
                boolean tie = gap <= 1e-4 * scale;
                if (!tie) failures++;
                line += String.format(": equal for %d tokens, then %d vs %d whose CPU logits differ by %.2e (%.1e of the largest): %s",
                        i, a[i], b[i], gap, gap / scale, tie ? "a near tie, not a fault" : "FAIL");
            }
            out.println(line);
            record("check", line);
            // device sampling: argmax on the device equals the host's argmax of the same logits
            float[] logits = g.forward(new int[] {prompt[0]}, 0);
            int host = Sampler.argmax(logits);
            int device = g.forwardAndSample(new int[] {prompt[0]}, 0, new Sampler(SamplingParams.GREEDY), prompt, 1);
            if (host != device) failures++;
            String l2 = "check device argmax: " + device + (host == device ? " == " : " != ") + "host " + host;
            out.println(l2);
            record("check", l2);
        }
    }

    /**
     * Opens and closes the device again and again, beside the one the suite holds, as a notebook
     * reloading models does: no open may fail, no file may stay open.
     */
    void checkReopen(DeviceInfo gpu) throws IOException {
        int cycles = 60;
        long before = openFiles();
        List<Long> trail = new ArrayList<>();
        for (int i = 0; i < cycles; i++) {
            try (var dev = open(gpu, "open " + (i + 1) + " of " + cycles)) {
                long a = dev.alloc(1 << 20, "reopen check");
                dev.zero(a, 1 << 20);
                dev.synchronize();
                dev.free(a);
            }
            if (i % 10 == 9) trail.add(openFiles());
        }
        long after = openFiles();
        boolean ok = after - before < cycles;
        if (!ok) failures++;
        String line = String.format("check reopen: %d opens and closes of %s; open files %d -> %d (after every 10: %s)%s",
                cycles, gpu.id(), before, after, trail, ok ? "" : ": FAIL, files left open");
        out.println(line);
        record("check", line);
    }

    private GpuDevice open(DeviceInfo gpu, String which) {
        try {
            return backend.platform().open(gpu, RuntimeSettings.defaults());
        } catch (RuntimeException e) {
            throw new IllegalStateException(which + " failed: " + e.getMessage(), e);
        }
    }

    /** Files this process holds open (Linux), or -1. */
    static long openFiles() throws IOException {
        Path fd = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fd)) return -1;
        try (var s = Files.list(fd)) {
            return s.count();
        }
    }

    // ---------------- benchmarks ----------------

    void bench(DeviceInfo gpu) {
        var dev = backend.platform().open(gpu, RuntimeSettings.defaults());
        double copyGbs;
        try {
            long bytes = Math.min(2L << 30, dev.freeBytes() / 4) & ~15L; // 2 GiB, or less on a small device (lavapipe's heap is 2 GiB)
            long a = dev.alloc(bytes, "copy src"), b = dev.alloc(bytes, "copy dst");
            dev.copy(b, a, bytes);
            float ms = dev.time(() -> { for (int i = 0; i < 5; i++) dev.copy(b, a, bytes); }) / 5;
            double commandGbs = 2.0 * bytes / (ms * 1e-3) / 1e9;
            // and by a kernel: NVIDIA's Vulkan driver copies buffers at a fifth of what its memory moves (852 GB/s on
            // the H200 through either queue family, where a CUDA copy and a copy kernel move 4240)
            GpuDevice.LoadedKernel k = dev.load(COPY, dev.target().codegen().emit(COPY));
            try (GpuDevice.Launch copy = dev.prepare(k, new long[] {a, b})) {
                int[] grid = {8 * dev.target().caps().multiprocessors(), 1, 1}, n = {(int) Math.min(Integer.MAX_VALUE, bytes / 16)};
                copy.launch(grid, n);
                float kms = dev.time(() -> { for (int i = 0; i < 5; i++) copy.launch(grid, n); }) / 5;
                double kernelGbs = 2.0 * 16L * n[0] / (kms * 1e-3) / 1e9;
                copyGbs = Math.max(commandGbs, kernelGbs);
                record("bench", String.format("device copy bandwidth (read+write): %.0f GB/s by the copy command, %.0f GB/s by a copy kernel, on %s; the roofline takes %.0f",
                        commandGbs, kernelGbs, gpu.name(), copyGbs));
            }
            dev.free(a);
            dev.free(b);
        } finally {
            dev.close();
        }
        for (String model : models) benchModel(gpu, model, "q4f16_1", copyGbs);
    }

    /**
     * Each model's step values on the device (GpuDiagnostics.traceStep): a decode step of token 1 at position 0
     * through each decode program, a prefill of five tokens, and the captured decode step's logits after it; per
     * trace the first node with a value that is not finite and the largest magnitude, every node in
     * {@code trace-MODEL.txt} under {@code outDir}. Not a check (it fails nothing): where a step goes wrong.
     */
    void trace(DeviceInfo gpu, Path outDir) throws IOException {
        for (String model : models)
            try (ChatModule cm = ChatModule.load(model, LoadOptions.defaults().device(gpu.id()).quant("q4f16_1"))) {
                GpuRunner r = (GpuRunner) cm.model().runner();
                GpuDiagnostics d = new GpuDiagnostics(r);
                StringBuilder all = new StringBuilder();
                List<Object[]> runs = new ArrayList<>();
                if (r.build().shortDecode() != null) runs.add(new Object[] {"decode, short-context program", new int[] {1}, true});
                runs.add(new Object[] {"decode", new int[] {1}, false});
                runs.add(new Object[] {"prefill of 5", new int[] {1, 450, 4996, 17354, 1701}, false});
                for (Object[] run : runs) {
                    List<GpuDiagnostics.NodeValues> t = d.traceStep((int[]) run[1], 0, (Boolean) run[2]);
                    var first = t.stream().filter(v -> v.nonFinite() > 0).findFirst();
                    double largest = t.stream().mapToDouble(GpuDiagnostics.NodeValues::largest).max().orElse(0);
                    String line = String.format(java.util.Locale.ROOT, "trace %s %s: %d nodes, largest |v| %.4g, %s", model, run[0], t.size(), largest,
                            first.map(v -> "first not finite: " + v).orElse("all finite"));
                    out.println(line);
                    record("trace", line);
                    all.append("== ").append(run[0]).append('\n');
                    t.forEach(v -> all.append(v).append('\n'));
                }
                float[] logits = r.forward(new int[] {1}, 0); // the captured step, as generation runs it
                long bad = 0;
                for (float v : logits) if (!Float.isFinite(v)) bad++;
                List<GpuDiagnostics.NodeValues> after = d.valuesNow(r.build().shortDecode() != null && 0 < r.build().shortContext() ? r.build().shortDecode() : r.decodeProgram(), 1);
                capturedAgrees(model, logits, d.oneByOneLogits(1, 0));
                String line = String.format(java.util.Locale.ROOT, "trace %s captured decode step at 0: %d of %d logits not finite; its buffers after it: %d of %d hold values not finite, the first %s",
                        model, bad, logits.length, after.stream().filter(v -> v.nonFinite() > 0).count(), after.size(),
                        after.stream().filter(v -> v.nonFinite() > 0).findFirst().map(Object::toString).orElse("none"));
                out.println(line);
                record("trace", line);
                all.append("== the buffers after the captured decode step at 0\n");
                after.forEach(v -> all.append(v).append('\n'));
                if (outDir != null) Files.writeString(Files.createDirectories(outDir).resolve("trace-" + model.replaceAll("[^A-Za-z0-9.-]+", "_") + ".txt"), all);
            }
    }

    /**
     * The captured decode step against the same kernels launched one at a time (GpuDiagnostics.capturedAndOneByOne):
     * both finite and equal within 1e-3 of the largest logit, else a failure. A real-shaped model only runs here
     * (the checks' models are small): on an H100 (2026-12-06) every synthetic bench model's captured step gave NaN
     * logits where the one-by-one step's were finite (the GEMVs' x loads, declared invariant, ran before their
     * griddepcontrol.wait: see CEmitter).
     */
    void capturedAgrees(String model, GpuDiagnostics d) {
        float[][] two = d.capturedAndOneByOne(1, 0);
        capturedAgrees(model, two[0], two[1]);
    }

    /** The check above on the captured step's logits and the one-at-a-time step's. */
    private void capturedAgrees(String model, float[] captured, float[] oneByOne) {
        long badCaptured = 0, badOne = 0;
        double diff = 0, largest = 0;
        for (int i = 0; i < captured.length; i++) {
            if (!Float.isFinite(captured[i])) badCaptured++;
            if (!Float.isFinite(oneByOne[i])) badOne++;
            if (Float.isFinite(captured[i]) && Float.isFinite(oneByOne[i])) diff = Math.max(diff, Math.abs(captured[i] - oneByOne[i]));
            if (Float.isFinite(oneByOne[i])) largest = Math.max(largest, Math.abs(oneByOne[i]));
        }
        boolean ok = badCaptured == 0 && badOne == 0 && diff <= 1e-3 * largest;
        if (!ok) failures++;
        String line = String.format(java.util.Locale.ROOT, "check %s captured decode step vs one kernel at a time: %d and %d of %d logits not finite, largest difference %.3g of %.3g: %s",
                model, badCaptured, badOne, captured.length, diff, largest, ok ? "agree" : "FAIL");
        out.println(line);
        record("check", line);
    }

    /** {@code dst[i] = src[i]} over {@code n} 16-byte words, a grid-stride loop of 256-thread blocks. */
    static final Kernel COPY = copyKernel();

    private static Kernel copyKernel() {
        Buffer src = new Buffer("src", KType.U32, true), dst = new Buffer("dst", KType.U32, false);
        Expr.Var n = K.var("n", KType.I32), i = K.var("i", KType.I32);
        K.Body b = new K.Body();
        b.forRange(i, K.add(K.mul(K.bid(0), K.c(256)), K.tid(0)), n, K.mul(K.gdim(0), K.c(256)), 0, x -> x.store(dst, i, K.load(src, i, KType.U32X4)));
        return new Kernel("bench_copy_u32x4", List.of(src, dst), List.of(n), List.of(), b.build(), new int[] {256, 1, 1},
                new Expr[] {K.c(1), K.c(1), K.c(1)}, Map.of(), "dst[i] = src[i], 16 bytes a thread a step");
    }

    private void benchModel(DeviceInfo gpu, String model, String quant, double copyGbs) {
        long t0 = System.nanoTime();
        try (ChatModule cm = ChatModule.load(model, LoadOptions.defaults().device(gpu.id()).quant(quant))) {
            double loadS = (System.nanoTime() - t0) / 1e9;
            GpuRunner r = (GpuRunner) cm.model().runner();
            GpuDiagnostics d = new GpuDiagnostics(r);
            capturedAgrees(model, d); // what the timings below run must compute the model
            int vocab = cm.model().config().vocabSize();
            // seed protocol: one-token prompt, 512 decoded tokens, greedy, forced length; twice, the second counts
            int[] prompt = {1};
            GenerationConfig cfg = new GenerationConfig(512, SamplingParams.GREEDY, Set.of(), true);
            cm.generateTokens(prompt, cfg);
            cm.generateTokens(prompt, cfg);
            double decode = cm.stats().decodeTokensPerSecond();
            // device time of the captured step alone, per kernel, and with argmax, at the seed run's
            // mean position (256, the cache filled by a prefill); then one host round trip per step
            int[] p256 = new Random(1).ints(256, 3, vocab).toArray();
            r.forward(p256, 0);
            r.forward(new int[] {p256[255]}, 256); // leaves the device's pos at 256 for the replays
            float stepMs = d.timeDecodeSteps(100) / 100;
            List<GpuDiagnostics.KernelTime> kt = d.timeDecodeKernels(20);
            float greedyMs = d.timeGreedySteps(100) / 100; // positions 256 .. 355
            double hostMs = d.hostStepMillis(256, 100);
            long weightBytes = r.weightBytes() - (long) vocab * cm.model().config().hiddenSize() / 2; // embedding: one row read
            double roofline = copyGbs * 1e9 / weightBytes;
            // prefill of 512 tokens
            int[] p512 = new Random(2).ints(512, 3, vocab).toArray();
            cm.generateTokens(p512, new GenerationConfig(1, SamplingParams.GREEDY, Set.of(), true));
            cm.generateTokens(p512, new GenerationConfig(1, SamplingParams.GREEDY, Set.of(), true));
            double prefill = cm.stats().prefillTokensPerSecond();
            var pt = d.timeKernels(false, 512, 3);
            double ptotal = pt.stream().mapToDouble(GpuDiagnostics.KernelTime::ms).sum();
            Map<String, Double> byRule = new TreeMap<>();
            for (var k : pt) byRule.merge(k.rule(), (double) k.ms(), Double::sum);
            StringBuilder pr = new StringBuilder();
            byRule.entrySet().stream().sorted((x, y) -> Double.compare(y.getValue(), x.getValue()))
                    .forEach(e -> pr.append(String.format(" %s %.2f ms (%.0f%%)", e.getKey(), e.getValue(), 100 * e.getValue() / ptotal)));
            record("bench", String.format("  prefill-512 kernels: %.2f ms in all;%s", ptotal, pr));
            // short prompts: the prefill program against one decode step per token (the runner's short_prompt path)
            StringBuilder sp = new StringBuilder();
            for (int n : new int[] {2, 4, 8, 16, 32, 64}) {
                int[] pn = new Random(3).ints(n, 3, vocab).toArray();
                double[] ms = new double[2];
                for (int path = 0; path < 2; path++) {
                    r.shortPrompt(path == 0 ? 0 : n);
                    r.forward(pn, 0);
                    long s0 = System.nanoTime();
                    for (int i = 0; i < 5; i++) r.forward(pn, 0);
                    ms[path] = (System.nanoTime() - s0) / 5e6;
                }
                sp.append(String.format(" %d: %.2f / %.2f ms;", n, ms[0], ms[1]));
            }
            r.shortPrompt(GpuRunner.DEFAULT_SHORT_PROMPT);
            record("bench", "  prompt of n tokens, prefill program / decode steps:" + sp);
            out.println("  prompt of n tokens, prefill program / decode steps:" + sp);
            double flops = 2.0 * cm.model().config().parameterCount() * 512;
            double tflops = flops / (512 / prefill) / 1e12;
            Boolean pdlSet = RuntimeSettings.defaults().withEnvironment(System.getenv()).programmaticLaunch();
            String pdl = pdlSet == null ? "" : pdlSet ? " (programmatic launch)" : " (no programmatic launch)";
            String line = String.format("bench %s %s%s on %s: decode %.1f tok/s (graph step %.3f ms = %.1f tok/s; with argmax %.3f ms; host step %.3f ms), roofline %.0f tok/s (%.2f GB/token at %.0f GB/s) -> %.0f%% ; prefill-512 %.0f tok/s = %.0f TFLOP/s; load %.1f s",
                    model, quant, pdl, gpu.name(), decode, stepMs, 1000 / stepMs, greedyMs, hostMs, roofline, weightBytes / 1e9, copyGbs, 100 * decode / roofline, prefill, tflops, loadS);
            out.println(line);
            record("bench", line);
            // kernels by total time, with achieved bandwidth
            Map<String, double[]> agg = new TreeMap<>();
            Map<String, Map<String, String>> stats = new TreeMap<>();
            for (var k : kt) {
                stats.put(k.rule() + " " + k.kernel(), k.statistics());
                double[] v = agg.computeIfAbsent(k.rule() + " " + k.kernel(), x -> new double[3]);
                v[0] += k.ms();
                v[1] += k.weightBytes();
                v[2]++;
            }
            double total = kt.stream().mapToDouble(GpuDiagnostics.KernelTime::ms).sum();
            agg.entrySet().stream().sorted((x, y) -> Double.compare(y.getValue()[0], x.getValue()[0])).limit(12).forEach(e -> {
                double[] v = e.getValue();
                String l = String.format("  kernel %-70s x%-3d %7.1f us total (%4.1f%%) %6.0f GB/s", e.getKey(), (int) v[2], v[0] * 1000, 100 * v[0] / total, v[1] / (v[0] * 1e-3) / 1e9);
                String st = statistics(stats.get(e.getKey()));
                out.println(l + st);
                record("kernel", model + " " + l.trim() + st);
            });
            record("bench", String.format("  sum of per-kernel times %.3f ms vs captured step %.3f ms", total, stepMs));
        } catch (RuntimeException e) {
            failures++;
            e.printStackTrace(out);
            record("fail", "bench " + model + " failed: " + e);
        }
    }

    /** A kernel's driver statistics on one line ({@code ; registers 64, local bytes 0, ...}), or nothing where the driver gives none. */
    static String statistics(Map<String, String> stats) {
        if (stats == null || stats.isEmpty()) return "";
        StringBuilder sb = new StringBuilder(";");
        stats.forEach((name, value) -> sb.append(sb.length() > 1 ? ", " : " ").append(name).append(' ').append(value));
        return sb.toString();
    }
}
