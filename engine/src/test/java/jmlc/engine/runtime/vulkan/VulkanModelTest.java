package jmlc.engine.runtime.vulkan;

import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.Checkpoints;
import jmlc.engine.format.TinyModels;
import jmlc.engine.format.gguf.GgufModelWriter;
import jmlc.engine.format.hf.HfModelWriter;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.generate.Generator;
import jmlc.engine.model.CheckpointWeights;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.Progress;
import jmlc.engine.model.SyntheticWeights;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.ModelRunner;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.cpu.CpuBackend;
import jmlc.engine.runtime.gpu.GpuBackend;
import jmlc.engine.runtime.gpu.GpuDiagnostics;
import jmlc.engine.runtime.gpu.GpuRunner;
import jmlc.engine.api.ModelLoader;
import jmlc.engine.sampling.Sampler;
import jmlc.engine.sampling.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;

import static jmlc.engine.runtime.gpu.GreedyAgreement.assertGreedyAgrees;
import static jmlc.engine.runtime.gpu.GreedyAgreement.assertTokensAgree;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Whole tiny models through the Vulkan backend (lavapipe in CI), as GpuRunnerSimulatedTest runs
 * them on the simulated device: every node of the prefill and decode programs against the reference
 * interpreter (each kernel fed the reference's inputs), and greedy generation through the captured
 * decode step, device argmax and steps queued ahead against the CPU reference, for Hugging Face
 * checkpoints in every quantization and GGUF files (Q4_0, F32); every fusion off; synthetic weights
 * made on the device; a model too large for the device's memory.
 */
class VulkanModelTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run

    static ModelConfig config() {
        return new ModelConfig(Architecture.LLAMA, 300, 64, 128, 2, 4, 2, 16, 1e-5, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 32, false, false);
    }

    static GpuRunner load(CompiledModel cm, ModelWeights w, VulkanPlatform platform) {
        DeviceInfo d = VulkanTestDevice.require();
        return new GpuBackend(platform).load(cm, w, d, RuntimeSettings.defaults(), Knobs.defaults(), Progress.NONE);
    }

    static GpuRunner load(CompiledModel cm, ModelWeights w, Knobs knobs) {
        return new GpuBackend(VulkanTestDevice.PLATFORM).load(cm, w, VulkanTestDevice.require(), RuntimeSettings.defaults(), knobs, Progress.NONE);
    }

    /** Decode steps at positions 0 .. {@code positions - 1}, every node within its rule's tolerance of the reference interpreter's. */
    static void decodeNodesMatch(GpuRunner r, CompiledModel cm, ModelWeights w, int positions, Random rnd, String what) {
        GpuDiagnostics d = new GpuDiagnostics(r);
        var ref = new ReferenceInterpreter(cm.graph(), w::get);
        var st = new ReferenceInterpreter.State();
        for (int pos = 0; pos < positions; pos++)
            for (var nc : d.checkStep(ref, st, new int[] {rnd.nextInt(cm.config().vocabSize())}, pos))
                assertTrue(nc.passed(), "decode at " + pos + " " + what + ": " + nc + " (seed " + SEED + ")");
    }

    static ModelRunner cpuReference(CompiledModel cm, ModelWeights w) {
        CpuBackend cpu = new CpuBackend();
        return cpu.load(cm, w, cpu.detect().stream().filter(d -> d.id().equals("cpu:ref")).findFirst().orElseThrow(), Progress.NONE);
    }

    @ParameterizedTest
    @EnumSource(value = QuantMode.class, names = {"Q4F16_1", "Q4F32_1", "Q8F16", "Q0F16", "Q0F32"})
    void huggingFaceModelsMatchTheReferenceInEveryQuantization(QuantMode m, @TempDir Path dir) {
        VulkanTestDevice.require();
        ModelConfig c = config();
        HfModelWriter.write(dir, TinyModels.random(c, SEED), TensorDType.F32, 1);
        try (Checkpoint ck = Checkpoints.open(dir)) {
            checkModel(ck, CompiledModel.compile(c, m, 32, false, Set.of(), 8), m == QuantMode.Q4F16_1);
        }
    }

    /** A GGUF file of Q4_0 matrices runs as q4_0 (GGUF's own blocks); one of F32 tensors as q0f32, as stored. */
    @ParameterizedTest
    @EnumSource(value = TensorDType.class, names = {"Q4_0", "F32"})
    void ggufModelsMatchTheReference(TensorDType stored, @TempDir Path dir) {
        VulkanTestDevice.require();
        ModelConfig c = config();
        Path f = dir.resolve("model.gguf");
        GgufModelWriter.write(f, TinyModels.random(c, SEED), GgufModelWriter.Options.of(stored));
        try (Checkpoint ck = Checkpoints.open(f)) {
            QuantMode q = ModelLoader.naturalQuant(ck);
            assertEquals(stored == TensorDType.Q4_0 ? QuantMode.Q4_0 : QuantMode.Q0F32, q);
            checkModel(ck, CompiledModel.compile(ck.config(), q, 32, false, Set.of(), 8), false);
        }
    }

    /**
     * An int8 KV cache, its bytes through 8-bit storage (lavapipe has it) and, with the device opened
     * without it, through 32-bit words (bit-field extracts, atomic stores); the decode attention reading
     * a byte a lane, or with the knob wide a word of 4 a lane; it appends with groups of 32 (head size
     * 64); prefill's rope_kv_append and attention (a word a lane here) write and read it too.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"true, 0", "false, 0", "true, 1"})
    void int8KvCacheMatchesTheReference(boolean storage8, int wide, @TempDir Path dir) {
        VulkanTestDevice.require();
        ModelConfig c = new ModelConfig(Architecture.LLAMA, 300, 128, 128, 2, 2, 1, 64, 1e-5, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 32, false, false);
        HfModelWriter.write(dir, TinyModels.random(c, SEED), TensorDType.F32, 1);
        try (Checkpoint ck = Checkpoints.open(dir)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, jmlc.compiler.ir.DType.I8, 32, false, Set.of(), 8);
            VulkanPlatform platform = new VulkanPlatform(new VulkanDevice.Options(0, storage8));
            Knobs knobs = Knobs.defaults();
            for (var n : cm.graph().nodes()) // wide: the decode attention reads a word of 4 bytes a lane, else a byte
                if (n.op() instanceof jmlc.compiler.ir.Op.Attention)
                    knobs.put(jmlc.compiler.schedule.KernelSignature.key(jmlc.compiler.schedule.rule.AttentionDecodeRule.KIND, jmlc.compiler.schedule.rule.AttentionDecodeRule.shape(n)),
                            java.util.Map.of("wide", wide));
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                 GpuRunner r = new GpuBackend(platform).load(cm, w, VulkanTestDevice.require(), RuntimeSettings.defaults(), knobs, Progress.NONE)) {
                assertEquals(storage8 && VulkanTestDevice.PLATFORM.probe(r.device().id()).target().caps().storage8(), r.target().caps().storage8());
                String what = "i8 cache, " + (r.target().caps().storage8() ? "8-bit storage" : "bytes through words") + ", wide " + wide + " (seed " + SEED + ")";
                assertEquals(wide == 1, r.build().decode().kernels().stream().anyMatch(k -> k.name().startsWith("attention_decode") && k.name().contains("v_rope")), what);
                GpuDiagnostics d = new GpuDiagnostics(r);
                var ref = new ReferenceInterpreter(cm.graph(), w::get);
                Random rnd = new Random(SEED);
                for (var nc : d.checkStep(ref, new ReferenceInterpreter.State(), rnd.ints(5, 0, c.vocabSize()).toArray(), 0))
                    assertTrue(nc.passed(), "prefill " + nc + ", " + what);
                decodeNodesMatch(r, cm, w, 4, rnd, what);
            }
        }
    }

    /** Tied embeddings, q/k/v biases, one KV head, every fusion off: the kernels the fused graph never uses. */
    @Test
    void unfusedQwen2MatchesTheReference(@TempDir Path dir) {
        VulkanTestDevice.require();
        ModelConfig c = new ModelConfig(Architecture.QWEN2, 300, 64, 128, 1, 4, 1, 16, 1e-6, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 32, true, true);
        HfModelWriter.write(dir, TinyModels.random(c, SEED), TensorDType.F32, 1);
        try (Checkpoint ck = Checkpoints.open(dir)) {
            checkModel(ck, CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false,
                    Set.of("FuseDequantMatmul", "FuseRopeKvAppend", "FuseSiluMul", "FuseAddRmsNorm", "FuseParallelMatmuls"), 8), false);
        }
    }

    /**
     * Every node of a 5-token prefill and of 3 decode steps within its rule's tolerance; then greedy
     * generation (captured steps, device argmax, steps queued ahead) gives the CPU reference's tokens,
     * and with {@code turns}, a cancelled turn followed by another and a sampled token.
     */
    private static void checkModel(Checkpoint ck, CompiledModel cm, boolean turns) {
        ModelConfig c = ck.config();
        try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph()); GpuRunner r = load(cm, w, VulkanTestDevice.PLATFORM);
             ModelRunner cpu = cpuReference(cm, w)) {
            String what = cm.quant() + " on " + r.device().id() + " (seed " + SEED + ")";
            GpuDiagnostics d = new GpuDiagnostics(r);
            var ref = new ReferenceInterpreter(cm.graph(), w::get);
            Random rnd = new Random(SEED);
            for (var nc : d.checkStep(ref, new ReferenceInterpreter.State(), rnd.ints(5, 0, c.vocabSize()).toArray(), 0))
                assertTrue(nc.passed(), "prefill " + nc + ", " + what);
            var st = new ReferenceInterpreter.State();
            for (int pos = 0; pos < 3; pos++)
                for (var nc : d.checkStep(ref, st, new int[] {rnd.nextInt(c.vocabSize())}, pos))
                    assertTrue(nc.passed(), "decode at " + pos + ": " + nc + ", " + what);
            int[] prompt = rnd.ints(3, 0, c.vocabSize()).toArray();
            GenerationConfig six = GenerationConfig.greedy(6, Set.of());
            boolean same = assertGreedyAgrees(r, cpu, new int[0], prompt, six, what);
            if (!turns) return;
            // a turn cancelled after 2 tokens leaves steps queued past its end: discarded, their cache rows rewritten by the next turn
            int[] seen = {0};
            var cancelled = Generator.generate(r, new int[0], 0, prompt, six, t -> seen[0]++, () -> seen[0] >= 2);
            var full = Generator.generate(cpu, new int[0], 0, prompt, six, t -> { }, () -> false);
            same &= assertTokensAgree(cancelled.tokens(), Arrays.copyOf(full.tokens(), 2), r, cpu, new int[0], prompt, "cancelled turn, " + what);
            if (same) assertGreedyAgrees(r, cpu, cancelled.cacheTokens(), rnd.ints(2, 0, c.vocabSize()).toArray(), GenerationConfig.greedy(3, Set.of()), "second turn, " + what);
            int t = r.forwardAndSample(new int[] {prompt[0]}, 0, new Sampler(new SamplingParams(0.7, 0, 1, 1, SEED)), prompt, 1);
            assertTrue(t >= 0 && t < c.vocabSize(), "sampled " + t);
        }
    }

    /**
     * The decode attention's split count is a specialization constant: a model loaded with 5 splits
     * after one with the default 32 gets the shader module compiled for 32 (the same generic source)
     * specialized to 5, and every node still matches the reference at positions below, at and past
     * the split count. Without the specialization the partial kernel would share the context out
     * over 32 splits while 5 run, and attention would miss most positions.
     */
    @Test
    void aSplitCountOtherThanTheCompiledModulesIsSpecializedAtLoad(@TempDir Path dir) {
        withTinyModel(dir, (cm, w, target) -> {
            // 5 splits, and no short-context program, whose attention has one split
            Knobs five = Knobs.defaults().put(new jmlc.compiler.schedule.KernelSignature("attention_decode", "h4_kv2_d16_c32_f16", target), java.util.Map.of("splits", 5))
                    .put(new jmlc.compiler.schedule.KernelSignature(jmlc.compiler.build.ShortContextDecode.KIND, "", target), java.util.Map.of("positions", 0));
            try (GpuRunner r = load(cm, w, five)) {
                assertTrue(r.decodeProgram().kernels().stream().anyMatch(k -> k.name().contains("s5") && k.name().endsWith("_partial")), "the knob reached the attention");
                assertNull(r.build().shortDecode());
                decodeNodesMatch(r, cm, w, 9, new Random(SEED), "with 5 splits");
            }
        }, defaults -> assertTrue(defaults.decodeProgram().kernels().stream().anyMatch(k -> k.name().contains("s32") && k.name().endsWith("_partial"))));
    }

    /**
     * Vulkan's default runs the short-context program below position 20 for this model (2 KV heads),
     * past every position the other tests check: here a threshold of 4 hands over to the split
     * attention, and every node of both programs matches the reference, greedy decoding across it the CPU's tokens.
     */
    @Test
    void theShortContextProgramHandsOverToTheSplitAttention(@TempDir Path dir) {
        withTinyModel(dir, (cm, w, target) -> {
            Knobs four = Knobs.defaults().put(new jmlc.compiler.schedule.KernelSignature(jmlc.compiler.build.ShortContextDecode.KIND, "", target), java.util.Map.of("positions", 4));
            try (GpuRunner r = load(cm, w, four); ModelRunner cpu = cpuReference(cm, w)) {
                Random rnd = new Random(SEED);
                decodeNodesMatch(r, cm, w, 7, rnd, "across the short-context threshold");
                assertGreedyAgrees(r, cpu, new int[0], rnd.ints(2, 0, cm.config().vocabSize()).toArray(), GenerationConfig.greedy(6, Set.of()),
                        "greedy across the short-context threshold on " + r.device().id() + ", seed " + SEED);
            }
        }, defaults -> assertEquals(20, defaults.build().shortContext(), "the default: 10 positions a KV head, 2 KV heads"));
    }

    interface TinyModelUse {
        void run(CompiledModel cm, ModelWeights w, jmlc.compiler.target.Target target);
    }

    /**
     * The tiny q4f16_1 model from a checkpoint in {@code dir}: loaded once with the defaults (checked
     * by {@code defaults}, which also gives the device's target), then handed to {@code use}.
     */
    static void withTinyModel(Path dir, TinyModelUse use, java.util.function.Consumer<GpuRunner> defaults) {
        VulkanTestDevice.require();
        ModelConfig c = config();
        HfModelWriter.write(dir, TinyModels.random(c, SEED), TensorDType.F32, 1);
        try (Checkpoint ck = Checkpoints.open(dir)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), 8);
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph())) {
                jmlc.compiler.target.Target target;
                try (GpuRunner r = load(cm, w, VulkanTestDevice.PLATFORM)) {
                    target = r.target();
                    defaults.accept(r);
                }
                use.run(cm, w, target);
            }
        }
    }

    @Test
    void syntheticWeightsAreMadeOnTheDeviceAndGiveFiniteLogits() {
        VulkanTestDevice.require();
        CompiledModel cm = CompiledModel.compile(config(), QuantMode.Q4F16_1, 32, false, Set.of(), 8);
        try (SyntheticWeights w = new SyntheticWeights(cm.graph(), 7, Progress.NONE); GpuRunner r = load(cm, w, VulkanTestDevice.PLATFORM)) {
            float[] logits = r.forward(new int[] {1, 5, 7}, 0);
            double sum = 0;
            for (float f : logits) {
                assertTrue(Float.isFinite(f), "non-finite logit");
                sum += Math.abs(f);
            }
            assertTrue(sum > 0, "all logits zero: weights were not made");
        }
    }

    /**
     * A device with less memory than the model (a heap limit of 24 MiB; q0f32 embeddings and output
     * layer of a 32000-token vocabulary take 16 MiB): the error names the device and what is free, and
     * the device serves the next load.
     */
    @Test
    void aModelTooLargeForTheDeviceIsAClearErrorAndTheNextLoadWorks() {
        VulkanTestDevice.require();
        ModelConfig c = new ModelConfig(Architecture.LLAMA, 32000, 64, 128, 1, 4, 2, 16, 1e-5, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 32, false, false);
        CompiledModel cm = CompiledModel.compile(c, QuantMode.Q0F32, 32, false, Set.of(), 8);
        try (SyntheticWeights w = new SyntheticWeights(cm.graph(), 7, Progress.NONE)) {
            VulkanPlatform small = new VulkanPlatform(new VulkanDevice.Options(24L << 20));
            // refused before anything is allocated (MemoryCheck); a failed allocation naming its buffer is VulkanDeviceTest's
            var e = assertThrows(jmlc.engine.model.MemoryCheck.NotEnoughMemoryException.class, () -> load(cm, w, small).close());
            assertTrue(e.getMessage().contains("on vulkan:") && e.getMessage().contains("is free"), "names the device and its free memory: " + e.getMessage());
            try (GpuRunner r = load(cm, w, VulkanTestDevice.PLATFORM)) {
                float[] logits = r.forward(new int[] {1}, 0);
                assertEquals(c.vocabSize(), logits.length);
                assertTrue(Float.isFinite(logits[123]));
            }
        }
    }
}
