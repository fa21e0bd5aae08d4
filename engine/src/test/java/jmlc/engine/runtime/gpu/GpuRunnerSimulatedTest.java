package jmlc.engine.runtime.gpu;

import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.ir.Value;
import jmlc.compiler.schedule.Precision;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.target.Target;
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
import jmlc.engine.model.SyntheticWeights;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.sim.SimulatedDevice;
import jmlc.engine.runtime.sim.SimulatorPlatform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The GPU runner on a simulated device: device memory layout, argument binding, the captured
 * decode step, prefill launches, device sampling and synthetic weights made by kernels, all
 * checked against the reference interpreter node by node.
 */
class GpuRunnerSimulatedTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run

    static ModelConfig config() {
        return new ModelConfig(Architecture.LLAMA, 300, 64, 128, 2, 4, 2, 16, 1e-5, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 32, false, false);
    }

    /** The model loaded through the generic GPU backend onto a simulated device of {@code target}. */
    static GpuRunner load(String target, CompiledModel cm, ModelWeights w, Knobs knobs) {
        GpuBackend b = new GpuBackend(new SimulatorPlatform());
        return b.load(cm, w, b.named("sim:" + target).orElseThrow(), RuntimeSettings.defaults(), knobs, Progress.NONE);
    }

    /** The model run on {@code dev} (a simulated device the test holds), compiled as the generic backend compiles it. */
    static GpuRunner runner(SimulatedDevice dev, CompiledModel cm, ModelWeights w, Knobs knobs) {
        return new GpuRunner(dev, cm, w, jmlc.compiler.build.Build.compile(cm.graph(), dev.target(), knobs, cm.maxStepTokens()),
                GpuRunner.shortPrompt(knobs, dev.target(), cm.maxStepTokens()), RuntimeSettings.defaults(), Progress.NONE);
    }

    /** What a test does with the tiny model's checkpoint compiled (q4f16_1) and loaded on the simulated sm_90, default knobs. */
    private interface OnTinyRunner {
        void run(ModelConfig c, CompiledModel cm, CheckpointWeights w, GpuRunner r);
    }

    private static void onTinyRunner(Path dir, OnTinyRunner body) {
        ModelConfig c = config();
        try (Checkpoint ck = tinyCheckpoint(dir, c)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), 8);
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph()); GpuRunner r = load("cuda:sm_90", cm, w, Knobs.defaults())) {
                body.run(c, cm, w, r);
            }
        }
    }

    /** Random weights for {@code c} written as a Hugging Face directory and opened as users open one. */
    static Checkpoint tinyCheckpoint(Path dir, ModelConfig c) {
        HfModelWriter.write(dir, TinyModels.random(c, SEED), TensorDType.F32, 1);
        return Checkpoints.open(dir);
    }

    /**
     * The suite's per-kernel table: one entry a call of the decode program, in its order, each kernel's calls (one a
     * layer, each on its own weights) timed together and reporting their mean, the weight bytes of the call's own matrix.
     */
    @Test
    void perKernelTimesCoverEveryCallAndRotateThroughTheLayers(@TempDir Path dir) {
        onTinyRunner(dir, (c, cm, w, r) -> {
            var calls = r.decodeProgram().steps().stream().flatMap(s -> s.calls().stream()).toList();
            var times = new GpuDiagnostics(r).timeDecodeKernels(4);
            assertEquals(calls.size(), times.size());
            java.util.Map<String, Float> byKernel = new java.util.HashMap<>();
            int gemvs = 0;
            for (int i = 0; i < calls.size(); i++) {
                var t = times.get(i);
                assertEquals(calls.get(i).kernel().name(), t.kernel(), "entry " + i);
                assertTrue(t.ms() > 0, t.toString());
                Float seen = byKernel.putIfAbsent(t.kernel(), t.ms());
                if (seen != null) assertEquals(seen, t.ms(), "every call of " + t.kernel() + " reports the kernel's mean");
                // its matrix and the norm's gain where it has one, as stored (packed weights with their scales)
                long stored = calls.get(i).args().stream().filter(a -> a instanceof jmlc.compiler.schedule.Arg.WeightData)
                        .mapToLong(a -> ModelWeights.bytesOf(((jmlc.compiler.schedule.Arg.WeightData) a).param().type())).sum();
                if (t.op().contains("matmul")) {
                    gemvs++;
                    assertEquals(stored, t.weightBytes(), t.toString());
                }
            }
            assertTrue(gemvs >= 4 * c.numLayers(), "a layer's four matrices, each its own entry: " + gemvs);
        });
    }

    @Test
    void everyNodeMatchesTheReferenceAndGreedyDecodingAgrees(@TempDir Path dir) {
        onTinyRunner(dir, (c, cm, w, r) -> {
            SimulatedDevice dev = (SimulatedDevice) r.gpu();
            GpuDiagnostics d = new GpuDiagnostics(r);
            var ref = new ReferenceInterpreter(cm.graph(), w::get);
            Random rnd = new Random(SEED);
            for (var nc : d.checkStep(ref, new ReferenceInterpreter.State(), rnd.ints(5, 0, c.vocabSize()).toArray(), 0))
                assertTrue(nc.passed(), nc + " (seed " + SEED + ")");
            var st = new ReferenceInterpreter.State();
            for (int pos = 0; pos < 3; pos++)
                for (var nc : d.checkStep(ref, st, new int[] {rnd.nextInt(c.vocabSize())}, pos))
                    assertTrue(nc.passed(), nc + " (seed " + SEED + ")");
            // the captured decode step and device argmax give the reference's greedy tokens
            int[] prompt = rnd.ints(3, 0, c.vocabSize()).toArray();
            var refRunner = new jmlc.engine.runtime.cpu.CpuBackend().load(cm, w, new jmlc.engine.runtime.cpu.CpuBackend().detect().get(1), Progress.NONE);
            GenerationConfig cfg = GenerationConfig.greedy(4, Set.of());
            int before = dev.launches();
            boolean same = GreedyAgreement.assertGreedyAgrees(r, refRunner, new int[0], prompt, cfg, "seed " + SEED);
            assertTrue(dev.launches() > before);
            // a turn cancelled after 2 of 6 tokens leaves greedy steps queued past its end; the next
            // turn feeds other tokens there: the queued steps are discarded, their cache entries rewritten
            GenerationConfig six = GenerationConfig.greedy(6, Set.of());
            int[] seen = {0};
            var gpuTurn = Generator.generate(r, new int[0], 0, prompt, six, t -> seen[0]++, () -> seen[0] >= 2);
            var cpuTurn = Generator.generate(refRunner, new int[0], 0, prompt, six, t -> { }, () -> false);
            same &= GreedyAgreement.assertTokensAgree(gpuTurn.tokens(), java.util.Arrays.copyOf(cpuTurn.tokens(), 2), r, refRunner, new int[0], prompt, "cancelled turn, seed " + SEED);
            int[] more = rnd.ints(2, 0, c.vocabSize()).toArray();
            int[] cached = gpuTurn.cacheTokens();
            GenerationConfig three = GenerationConfig.greedy(3, Set.of());
            if (same) GreedyAgreement.assertGreedyAgrees(r, refRunner, cached, more, three, "second turn, seed " + SEED); // else the caches hold different turns
            // device temperature sampling picks a token the host would (a valid id)
            int t = r.forwardAndSample(new int[] {prompt[0]}, 0, new Sampler(new SamplingParams(0.7, 0, 1, 1, SEED)), prompt, 1);
            assertTrue(t >= 0 && t < c.vocabSize(), "sampled " + t);
        });
    }

    /**
     * Decode steps at positions 0 to {@code positions - 1}, one random token each: every node against the reference; then
     * greedy decoding from a 2-token prompt gives the CPU's tokens.
     */
    private static void decodeStepsAndGreedyTokensAgree(GpuRunner r, jmlc.engine.runtime.ModelRunner cpu, CompiledModel cm, CheckpointWeights w, int positions, String what) {
        GpuDiagnostics d = new GpuDiagnostics(r);
        var ref = new jmlc.compiler.interp.ReferenceInterpreter(cm.graph(), w::get);
        var st = new jmlc.compiler.interp.ReferenceInterpreter.State();
        Random rnd = new Random(SEED);
        int vocab = cm.config().vocabSize();
        for (int pos = 0; pos < positions; pos++)
            for (var nc : d.checkStep(ref, st, new int[] {rnd.nextInt(vocab)}, pos))
                assertTrue(nc.passed(), what + ", decode at " + pos + ": " + nc + " (seed " + SEED + ")");
        GreedyAgreement.assertGreedyAgrees(r, cpu, new int[0], rnd.ints(2, 0, vocab).toArray(), GenerationConfig.greedy(6, Set.of()), what + ", seed " + SEED);
    }

    /**
     * The decode attention as thread block clusters (knob {@code cluster}, 2 splits a KV head, the short-context program
     * off so every step runs it): the runner's programs have the clustered kernel and no combine, every node of a step
     * matches the reference, and the captured step's greedy tokens are the CPU's.
     */
    @Test
    void theClusteredDecodeAttentionRunsThroughTheRunner(@TempDir Path dir) {
        ModelConfig c = config();
        Target cuda = Target.parse("cuda:sm_90");
        try (Checkpoint ck = tinyCheckpoint(dir, c)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), 8);
            Knobs knobs = Knobs.defaults().put(new jmlc.compiler.schedule.KernelSignature(jmlc.compiler.build.ShortContextDecode.KIND, "", cuda), java.util.Map.of("positions", 0));
            for (var n : cm.graph().nodes())
                if (n.op() instanceof jmlc.compiler.ir.Op.Attention)
                    knobs.put(new jmlc.compiler.schedule.KernelSignature(jmlc.compiler.schedule.rule.AttentionDecodeRule.KIND, jmlc.compiler.schedule.rule.AttentionDecodeRule.shape(n), cuda),
                            java.util.Map.of("splits", 2, "cluster", 1));
            var cpuBackend = new jmlc.engine.runtime.cpu.CpuBackend();
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                 GpuRunner r = load("cuda:sm_90", cm, w, knobs);
                 var cpu = cpuBackend.load(cm, w, cpuBackend.detect().get(1), Progress.NONE)) {
                var kernels = r.decodeProgram().kernels();
                assertTrue(kernels.stream().anyMatch(k -> k.clusterBarriers() && k.name().contains("_cluster")) && kernels.stream().noneMatch(k -> k.name().contains("_combine")),
                        kernels.stream().map(k -> k.name()).toList().toString());
                decodeStepsAndGreedyTokensAgree(r, cpu, cm, w, 5, "clustered attention");
            }
        }
    }

    /**
     * With a short-context program below position 4: each decode step runs the program its position
     * names (one attention block per KV head, no combine, below 4; the split attention with its
     * combine from 4 on), every node of both matches the reference, and greedy decoding that crosses
     * the threshold with steps queued ahead gives the CPU's tokens. The threshold defaults by platform.
     */
    @Test
    void decodeStepsBelowTheShortContextThresholdRunTheirOwnProgram(@TempDir Path dir) {
        ModelConfig c = config();
        Target cuda = Target.parse("cuda:sm_90");
        // the default: a platform's positions per KV head times the KV heads, within the context
        assertEquals(320, jmlc.compiler.build.ShortContextDecode.defaultPositions(cuda, 32, 4096));
        assertEquals(320, jmlc.compiler.build.ShortContextDecode.defaultPositions(Target.parse("vulkan"), 32, 4096));
        assertEquals(80, jmlc.compiler.build.ShortContextDecode.defaultPositions(Target.parse("vulkan"), 8, 4096));
        assertEquals(64, jmlc.compiler.build.ShortContextDecode.defaultPositions(Target.parse("vulkan"), 8, 64));
        assertEquals(0, jmlc.compiler.build.ShortContextDecode.defaultPositions(Target.parse("rocm:gfx1100"), 32, 4096), "not measured on AMD: off");
        try (Checkpoint ck = tinyCheckpoint(dir, c)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), 8);
            Knobs four = Knobs.defaults().put(new jmlc.compiler.schedule.KernelSignature(jmlc.compiler.build.ShortContextDecode.KIND, "", cuda), java.util.Map.of("positions", 4));
            // an entry for the model's attention shape (what jmlc tune writes) wins over one for every model
            var shaped = jmlc.compiler.build.ShortContextDecode.space(cuda, cm.graph()).orElseThrow().signature();
            assertTrue(shaped.toString().startsWith("decode_short_context_h") && shaped.toString().endsWith("@cuda:sm_90"), shaped.toString());
            assertEquals(4, jmlc.compiler.build.ShortContextDecode.positions(four, cuda, cm.graph()));
            assertEquals(6, jmlc.compiler.build.ShortContextDecode.positions(Knobs.defaults().with(four).put(shaped, java.util.Map.of("positions", 6)), cuda, cm.graph()));
            assertEquals(20, jmlc.compiler.build.ShortContextDecode.positions(Knobs.defaults(), cuda, cm.graph()), "the default: 10 positions a KV head (2) through CUDA");
            var cpuBackend = new jmlc.engine.runtime.cpu.CpuBackend();
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                 GpuRunner r = load("cuda:sm_90", cm, w, four);
                 var cpu = cpuBackend.load(cm, w, cpuBackend.detect().get(1), Progress.NONE)) {
                assertEquals(4, r.build().shortContext());
                var shortKernels = r.decodeProgram(3).kernels().stream().map(k -> k.name()).toList();
                var longKernels = r.decodeProgram(4).kernels().stream().map(k -> k.name()).toList();
                assertTrue(shortKernels.stream().anyMatch(n -> n.contains("_single")) && shortKernels.stream().noneMatch(n -> n.contains("_combine")), shortKernels.toString());
                assertTrue(longKernels.stream().anyMatch(n -> n.contains("_combine")), longKernels.toString());
                decodeStepsAndGreedyTokensAgree(r, cpu, cm, w, 7, "greedy across the short-context threshold");
                // the step at position 3 launches the short program (a combine fewer a layer), the one at 4 the other
                SimulatedDevice sim = (SimulatedDevice) r.gpu();
                int before = sim.launches();
                r.forward(new int[] {1}, 3);
                int at3 = sim.launches() - before;
                before = sim.launches();
                r.forward(new int[] {1}, 4);
                int at4 = sim.launches() - before;
                assertEquals(r.decodeProgram(3).launches(), at3);
                assertEquals(r.decodeProgram(4).launches(), at4);
                assertEquals(c.numLayers(), at4 - at3, "one combine a layer fewer below the threshold");
            }
        }
    }

    /** The short-prompt threshold by platform (Vulkan's prefill GEMMs have no split-K), within the step's tokens; a database entry wins. */
    @Test
    void shortPromptDefaultsByPlatform() {
        Target cuda = Target.parse("cuda:sm_90"), vulkan = Target.parse("vulkan");
        assertEquals(GpuRunner.DEFAULT_SHORT_PROMPT, GpuRunner.shortPrompt(Knobs.defaults(), cuda, 512));
        assertEquals(GpuRunner.VULKAN_SHORT_PROMPT, GpuRunner.shortPrompt(Knobs.defaults(), vulkan, 512));
        assertEquals(4, GpuRunner.shortPrompt(Knobs.defaults(), vulkan, 4));
        assertEquals(2, GpuRunner.shortPrompt(Knobs.defaults().put(GpuRunner.RUNNER_KNOBS, java.util.Map.of("short_prompt", 2)), vulkan, 512));
    }

    /**
     * A prompt of at most {@code runner.short_prompt} tokens runs as that many captured decode steps;
     * its logits and the cache it leaves agree with the prefill program's and the CPU's.
     */
    @Test
    void shortPromptsRunAsDecodeStepsAndAgreeWithThePrefillProgram(@TempDir Path dir) {
        ModelConfig c = config();
        try (Checkpoint ck = tinyCheckpoint(dir, c)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), 8);
            Knobs noShortPath = Knobs.defaults().put(GpuRunner.RUNNER_KNOBS, java.util.Map.of("short_prompt", 0));
            Knobs fiveAsSteps = Knobs.defaults().put(GpuRunner.RUNNER_KNOBS, java.util.Map.of("short_prompt", 5));
            var cpuBackend = new jmlc.engine.runtime.cpu.CpuBackend();
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                 GpuRunner steps = load("cuda:sm_90", cm, w, fiveAsSteps);
                 GpuRunner prefill = load("cuda:sm_90", cm, w, noShortPath);
                 var cpu = cpuBackend.load(cm, w, cpuBackend.detect().get(1), Progress.NONE)) {
                SimulatedDevice stepsDev = (SimulatedDevice) steps.gpu();
                Random rnd = new Random(SEED);
                int[] prompt = rnd.ints(5, 0, c.vocabSize()).toArray();
                int before = stepsDev.launches();
                steps.forward(new int[] {prompt[0]}, 0);
                int perStep = stepsDev.launches() - before;
                before = stepsDev.launches();
                float[] a = steps.forward(prompt, 0);
                assertEquals(5 * perStep, stepsDev.launches() - before, "5 decode steps of " + perStep + " launches");
                float[] b = prefill.forward(prompt, 0);
                float[] ref = cpu.forward(prompt, 0);
                // both programs compute in f16 (half2 GEMV, tensor-core GEMM): Precision's whole-model bounds
                double stepsBound = Precision.wholeModel(steps.decodeProgram()), prefillBound = Precision.wholeModel(steps.prefillProgram());
                assertTrue(relError(a, ref) < stepsBound, "decode steps vs CPU: " + relError(a, ref) + " (seed " + SEED + ")");
                assertTrue(relError(b, ref) < prefillBound, "prefill program vs CPU: " + relError(b, ref) + " (seed " + SEED + ")");
                // the caches the steps wrote serve the next token as the CPU's do
                int next = rnd.nextInt(c.vocabSize());
                float[] a2 = steps.forward(new int[] {next}, 5), ref2 = cpu.forward(new int[] {next}, 5);
                assertTrue(relError(a2, ref2) < stepsBound, "after the short prompt: " + relError(a2, ref2) + " (seed " + SEED + ")");
            }
        }
    }

    /**
     * Persistent decode kernels ({@code decode_persistent.kernels}): the captured step launches fewer kernels
     * (a layer's GEMVs from o to the next qkv as one, grid barriers between them), on a device that keeps
     * only 3 blocks resident so every fused kernel deals its tiles over fewer blocks than any member asks
     * for; its logits are the kernel-by-kernel runner's bit for bit, every node of the steps' own calls
     * matches the reference, and greedy decoding gives the CPU's tokens.
     */
    @Test
    void persistentDecodeKernelsComputeWhatKernelByKernelDoes(@TempDir Path dir) {
        ModelConfig c = config();
        try (Checkpoint ck = tinyCheckpoint(dir, c)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), 8);
            Knobs fused = Knobs.defaults().put(jmlc.compiler.build.PersistentDecode.KIND, java.util.Map.of("kernels", 8));
            SimulatedDevice plainDev = new SimulatedDevice(Target.parse("cuda:sm_90")), fusedDev = new SimulatedDevice(Target.parse("cuda:sm_90"));
            plainDev.residency(1, 3);
            fusedDev.residency(1, 3);
            var cpuBackend = new jmlc.engine.runtime.cpu.CpuBackend();
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                 GpuRunner plain = runner(plainDev, cm, w, Knobs.defaults()); GpuRunner r = runner(fusedDev, cm, w, fused);
                 var cpu = cpuBackend.load(cm, w, cpuBackend.detect().get(1), Progress.NONE)) {
                Program p = r.decodeProgram(10);
                assertTrue(p.fused() && p.launches() < p.calls().size(), p.launches() + " launches for " + p.calls().size() + " calls");
                assertTrue(p.launched().stream().anyMatch(k -> k.kernel().gridBarriers() && k.kernel().tiles() > 3), "a fused kernel with more tiles than resident blocks");
                Random rnd = new Random(SEED);
                int[] prompt = rnd.ints(5, 0, c.vocabSize()).toArray();
                assertArrayEquals(plain.forward(prompt, 0), r.forward(prompt, 0), "prefill (not fused)");
                for (int pos = 5; pos < 9; pos++) {
                    int[] tok = {rnd.nextInt(c.vocabSize())};
                    int before = fusedDev.launches();
                    float[] got = r.forward(tok, pos);
                    assertEquals(p.launches(), fusedDev.launches() - before, "launches of a captured decode step");
                    assertArrayEquals(plain.forward(tok, pos), got, "decode at position " + pos);
                }
                GpuDiagnostics d = new GpuDiagnostics(r);
                // the fused kernels launched over the 3 blocks the device keeps resident
                var stats = d.decodeLaunchStatistics();
                assertTrue(stats.entrySet().stream().anyMatch(e -> e.getKey().startsWith("persistent") && e.getValue().get("grid").equals("3x1x1")), stats.toString());
                var ref = new ReferenceInterpreter(cm.graph(), w::get);
                var st = new ReferenceInterpreter.State();
                for (int pos = 0; pos < 2; pos++)
                    for (var nc : d.checkStep(ref, st, new int[] {rnd.nextInt(c.vocabSize())}, pos, false)) assertTrue(nc.passed(), nc + " (seed " + SEED + ")");
                GreedyAgreement.assertGreedyAgrees(r, cpu, new int[0], prompt, GenerationConfig.greedy(5, Set.of()), "persistent kernels, seed " + SEED);
            }
            // what JMLC_PERSISTENT sets (RuntimeSettings.persistentKernels) reaches the build over the tuning database
            GpuBackend b = new GpuBackend(new SimulatorPlatform());
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                 var viaSettings = (GpuRunner) b.load(cm, w, b.named("sim:cuda:sm_90").orElseThrow(), RuntimeSettings.defaults().persistentKernels(2), Progress.NONE)) {
                assertEquals(2, viaSettings.build().persistent());
                assertTrue(viaSettings.decodeProgram().fused());
            }
        }
    }

    static double relError(float[] got, float[] want) {
        double d = 0, n = 0;
        for (int i = 0; i < want.length; i++) {
            d += (got[i] - want[i]) * (double) (got[i] - want[i]);
            n += want[i] * (double) want[i];
        }
        return Math.sqrt(d / n);
    }

    /** Tied embeddings, q/k/v biases, grouped heads, every fusion off: the kernels the fused graph never uses. */
    @Test
    void unfusedQwen2MatchesTheReference(@TempDir Path dir) {
        ModelConfig c = new ModelConfig(Architecture.QWEN2, 300, 64, 128, 1, 4, 1, 16, 1e-6, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 32, true, true);
        try (Checkpoint ck = tinyCheckpoint(dir, c)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false,
                    Set.of("FuseDequantMatmul", "FuseRopeKvAppend", "FuseSiluMul", "FuseAddRmsNorm", "FuseParallelMatmuls"), 8);
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                 GpuRunner r = load("cuda:sm_90", cm, w, Knobs.defaults())) {
                GpuDiagnostics d = new GpuDiagnostics(r);
                var ref = new ReferenceInterpreter(cm.graph(), w::get);
                Random rnd = new Random(SEED);
                for (var nc : d.checkStep(ref, new ReferenceInterpreter.State(), rnd.ints(4, 0, c.vocabSize()).toArray(), 0))
                    assertTrue(nc.passed(), nc + " (seed " + SEED + ")");
                var st = new ReferenceInterpreter.State();
                for (int pos = 0; pos < 2; pos++)
                    for (var nc : d.checkStep(ref, st, new int[] {rnd.nextInt(c.vocabSize())}, pos)) assertTrue(nc.passed(), nc + " (seed " + SEED + ")");
            }
        }
    }

    @Test
    void syntheticWeightsAreMadeOnTheDeviceAndGiveFiniteLogits() {
        ModelConfig c = config();
        for (QuantMode m : new QuantMode[] {QuantMode.Q4F16_1, QuantMode.Q0F16, QuantMode.Q0F32, QuantMode.Q8F16}) {
            CompiledModel cm = CompiledModel.compile(c, m, 32, false, Set.of(), 8);
            try (SyntheticWeights w = new SyntheticWeights(cm.graph(), 7, Progress.NONE); GpuRunner r = load("cuda:sm_90", cm, w, Knobs.defaults())) {
                float[] logits = r.forward(new int[] {1, 5, 7}, 0);
                assertEquals(c.vocabSize(), logits.length);
                double sum = 0;
                for (float f : logits) {
                    assertTrue(Float.isFinite(f), m + ": non-finite logit");
                    sum += Math.abs(f);
                }
                assertTrue(sum > 0, m + ": all logits zero: weights were not made");
            }
        }
    }

    /** A model larger than the device's free memory is refused before anything is compiled or allocated, with both figures. */
    @Test
    void aModelTooLargeForTheDeviceIsRefusedUpFront() {
        CompiledModel cm = CompiledModel.compile(config(), QuantMode.Q0F32, 32, false, Set.of(), 8);
        SimulatedDevice dev = new SimulatedDevice(Target.parse("cuda:sm_90"));
        dev.capacity(100_000); // the tiny model's f32 weights alone are about 0.3 MB
        int launchesBefore = dev.launches();
        try (SyntheticWeights w = new SyntheticWeights(cm.graph(), 7, Progress.NONE)) {
            var e = assertThrows(jmlc.engine.model.MemoryCheck.NotEnoughMemoryException.class, () -> runner(dev, cm, w, Knobs.defaults()));
            assertTrue(e.getMessage().matches("this model \\(llama, 0M parameters, q0f32\\) needs about 0\\.\\d GB of memory on sim:cuda:sm_90 \\(weights 0\\.\\d GB, "
                    + "KV cache 0\\.0 GB, activations 0\\.0 GB\\) but 0\\.0 GB is free \\(free memory sim:cuda:sm_90's driver reports\\): use a 4-bit --quant .*"), e.getMessage());
            assertEquals(100_000, dev.freeBytes(), "nothing was allocated");
            assertEquals(launchesBefore, dev.launches(), "nothing was launched");
        }
        // with room (the other tests' 16 GiB device), the same model loads: syntheticWeightsAreMadeOnTheDevice...
    }

    /**
     * q0f32 is f32 end to end on a GPU too: its programs have no f16 kernel (the tensor-core GEMM rounds
     * operands to f16; on the H200 logits were 5e-4 to 8e-4 off), its KV cache is f32, and a prompt
     * through the prefill program gives the CPU's logits to f32 rounding.
     */
    @Test
    void q0f32IsFloat32EndToEnd(@TempDir Path dir) {
        ModelConfig c = config();
        try (Checkpoint ck = tinyCheckpoint(dir, c)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q0F32, 32, true, Set.of(), 16);
            Knobs noShortPath = Knobs.defaults().put(GpuRunner.RUNNER_KNOBS, java.util.Map.of("short_prompt", 0));
            var cpuBackend = new jmlc.engine.runtime.cpu.CpuBackend();
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                 GpuRunner gpu = load("cuda:sm_90", cm, w, noShortPath);
                 var ref = cpuBackend.load(cm, w, cpuBackend.detect().get(1), Progress.NONE)) {
                for (Program p : List.of(gpu.decodeProgram(), gpu.prefillProgram()))
                    for (Program.Step s : p.steps())
                        assertFalse(Precision.F16_RULES.contains(s.rule()), (p.decode() ? "decode" : "prefill") + " " + s.node().op().name() + " runs the f16 rule " + s.rule());
                for (Value s : cm.graph().states()) assertEquals(jmlc.compiler.ir.DType.F32, s.type().dtype(), s.name());
                int[] prompt = new Random(SEED).ints(12, 0, c.vocabSize()).toArray();
                double err = relError(gpu.forward(prompt, 0), ref.forward(prompt, 0));
                assertTrue(err < 1e-5, "prefill logits, all 12 positions, against the CPU reference: " + err + " (seed " + SEED + ")");
                int[] next = {prompt[3]};
                double step = relError(gpu.forward(next, 12), ref.forward(next, 12));
                assertTrue(step < 1e-5, "a decode step after it: " + step + " (seed " + SEED + ")");
            }
        }
    }

    /**
     * A prompt longer than one step (the CLI's --prompt; GpuSuite's prefill-512 is one step) runs in chunks:
     * the chunks before the last are queued without copying logits back or waiting, so the host never
     * idles the device between them; one wait, for the sampled token. The tokens are the CPU's.
     */
    @Test
    void aLongPromptsChunksAreQueuedWithoutWaiting(@TempDir Path dir) {
        ModelConfig c = config();
        try (Checkpoint ck = tinyCheckpoint(dir, c)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), 8);
            SimulatedDevice dev = new SimulatedDevice(Target.parse("cuda:sm_90"));
            var cpuBackend = new jmlc.engine.runtime.cpu.CpuBackend();
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph()); GpuRunner gpu = runner(dev, cm, w, Knobs.defaults());
                 var ref = cpuBackend.load(cm, w, cpuBackend.detect().get(1), Progress.NONE)) {
                int[] prompt = new Random(SEED).ints(20, 0, c.vocabSize()).toArray(); // chunks of 8, 8, 4
                GenerationConfig one = GenerationConfig.greedy(1, Set.of());
                int before = dev.synchronizations();
                int[] got = Generator.generate(gpu, new int[0], 0, prompt, one, t -> { }, () -> false).tokens();
                assertEquals(1, dev.synchronizations() - before, "one wait for a 3-chunk prompt: the sampled token's");
                int[] want = Generator.generate(ref, new int[0], 0, prompt, one, t -> { }, () -> false).tokens();
                GreedyAgreement.assertTokensAgree(got, want, gpu, ref, new int[0], prompt, "seed " + SEED); // equal, or a near-tie
            }
        }
    }
    /** Every f16 GEMV of {@code cm} in the register loop (sm_90's default is a ring with the early trigger): a plain program. */
    static Knobs registerLoops(CompiledModel cm, Target t) {
        return Knobs.defaults().putEvery("gemvh", jmlc.compiler.build.Build.compile(cm.graph(), t, Knobs.defaults(), cm.maxStepTokens()).decode(),
                java.util.Map.of("stages", 0));
    }

    /**
     * A decode program whose GEMVs trigger early (the ring with knob trigger 1) is launched as programmatic
     * dependents without being told: the trigger gains only so. Plain programs and prefill launch plainly, and
     * JMLC_PDL=0 (programmaticLaunch false) or =1 still decides for every program. The logits are the same.
     */
    @Test
    void aProgramThatTriggersEarlyIsLaunchedAsDependents(@TempDir Path dir) {
        ModelConfig c = config();
        try (Checkpoint ck = tinyCheckpoint(dir, c)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), 8);
            Target t = Target.parse("cuda:sm_90");
            Knobs ringed = Knobs.defaults(), plain = registerLoops(cm, t);
            for (var tunable : jmlc.compiler.build.Build.compile(cm.graph(), t, Knobs.defaults(), cm.maxStepTokens()).decode().tunables()) {
                var v = new java.util.HashMap<>(tunable.chosen());
                if (!v.containsKey(Program.EARLY_TRIGGER)) continue;
                v.putAll(java.util.Map.of("stages", 4, Program.EARLY_TRIGGER, 1));
                if (tunable.space().valid(v)) ringed.put(tunable.space().signature(), java.util.Map.of("stages", 4, Program.EARLY_TRIGGER, 1));
            }
            assertFalse(ringed.equals(Knobs.defaults()), "some GEMV of the tiny model takes a ring with an early trigger");
            assertTrue(jmlc.compiler.build.Build.compile(cm.graph(), t, Knobs.defaults(), cm.maxStepTokens()).decode().triggersEarly(),
                    "sm_90's defaults: the ring with the early trigger");
            int[] prompt = new Random(SEED).ints(5, 0, c.vocabSize()).toArray();
            float[] want = null;
            // the ring's early trigger makes the program's launches dependents by itself (RuntimeSettings)
            for (var run : List.of(new Object[] {ringed, null, true}, new Object[] {ringed, true, true}, new Object[] {plain, null, false},
                    new Object[] {ringed, false, false}, new Object[] {plain, true, true})) {
                Knobs knobs = (Knobs) run[0];
                RuntimeSettings settings = RuntimeSettings.defaults().programmaticLaunch((Boolean) run[1]);
                SimulatedDevice dev = new SimulatedDevice(t);
                var build = jmlc.compiler.build.Build.compile(cm.graph(), t, knobs, cm.maxStepTokens());
                try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                     GpuRunner r = new GpuRunner(dev, cm, w, build, GpuRunner.shortPrompt(knobs, t, cm.maxStepTokens()), settings, Progress.NONE)) {
                    String what = (knobs == ringed ? "ringed with the trigger" : "register loops") + ", programmaticLaunch " + run[1];
                    assertEquals(knobs == ringed, build.decode().triggersEarly(), what);
                    if ((Boolean) run[2]) assertTrue(dev.dependentLaunches() >= build.decode().launches(), what + ": the decode step's launches are dependents, found " + dev.dependentLaunches());
                    else assertEquals(0, dev.dependentLaunches(), what + ": no launch is a dependent");
                    r.forward(prompt, 0);
                    float[] got = r.forward(new int[] {prompt[0]}, prompt.length);
                    if (want == null) want = got;
                    else assertArrayEquals(want, got, what + ": the ring and its trigger change no bit of the logits");
                }
            }
        }
    }

    /**
     * GpuDiagnostics' trace of a decode step (every node of the program, one kernel at a time on the device's own
     * values) and the captured step's logits beside the one-by-one step's, which the GPU suite's bench requires equal.
     */
    @Test
    void aDecodeStepTracedKernelByKernelEqualsTheCapturedStep(@TempDir Path dir) {
        onTinyRunner(dir, (c, cm, w, r) -> {
            GpuDiagnostics d = new GpuDiagnostics(r);
            int token = new Random(SEED).nextInt(c.vocabSize());
            var trace = d.traceStep(new int[] {token}, 0, false);
            long withKernels = r.decodeProgram().steps().stream().filter(s -> !s.calls().isEmpty()).mapToLong(s -> s.node().outputs().size()).sum();
            assertEquals(withKernels, trace.size(), "a line per output of every node with kernels");
            for (var v : trace) assertTrue(v.nonFinite() == 0 && v.elements() > 0, v.toString());
            assertEquals(c.vocabSize(), trace.getLast().elements(), "the last node is the LM head: " + trace.getLast());
            assertTrue(trace.getLast().largest() > 0, trace.getLast().toString());
            assertEquals(trace.size(), d.valuesNow(r.decodeProgram(), 1).size());
            float[][] two = d.capturedAndOneByOne(token, 0);
            assertArrayEquals(two[0], two[1], "the captured step and its kernels one at a time (seed " + SEED + ")");
            // and against the reference: the same step's logits within the whole model's tolerance
            var ref = new ReferenceInterpreter(cm.graph(), w::get).run(new int[] {token}, 0, new ReferenceInterpreter.State());
            double diff = 0, big = 0;
            for (int i = 0; i < ref.length; i++) {
                diff = Math.max(diff, Math.abs(ref[i] - two[0][i]));
                big = Math.max(big, Math.abs(ref[i]));
            }
            assertTrue(diff < 1e-2 * big, "captured step's logits against the reference: " + diff + " of " + big);
        });
    }

    /**
     * The runner's knob {@code dependent} (a tuning database entry) launches a plain decode program as
     * dependents where the settings leave it to each program; JMLC_PDL=0 still wins.
     */
    @Test
    void theRunnersDependentKnobLaunchesPlainProgramsAsDependents(@TempDir Path dir) {
        ModelConfig c = config();
        try (Checkpoint ck = tinyCheckpoint(dir, c)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), 8);
            GpuBackend backend = new GpuBackend(new SimulatorPlatform());
            var sim = backend.named("sim:cuda:sm_90").orElseThrow();
            Target t = Target.parse("cuda:sm_90");
            Knobs plain = registerLoops(cm, t), dependent = registerLoops(cm, t).put(GpuRunner.space(t, cm.maxStepTokens()).signature(), java.util.Map.of(GpuRunner.DEPENDENT, 1));
            for (var run : List.of(new Object[] {dependent, null, true}, new Object[] {plain, null, false}, new Object[] {dependent, false, false})) {
                try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                     GpuRunner r = backend.load(cm, w, sim, RuntimeSettings.defaults().programmaticLaunch((Boolean) run[1]), (Knobs) run[0], Progress.NONE)) {
                    int n = ((SimulatedDevice) r.gpu()).dependentLaunches();
                    String what = (run[0] == dependent ? "runner.dependent=1" : "register loops") + ", programmaticLaunch " + run[1];
                    if ((Boolean) run[2]) assertTrue(n >= r.decodeProgram().launches(), what + ": dependents, found " + n);
                    else assertEquals(0, n, what);
                }
            }
        }
    }
}
