package jmlc.engine.model;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Precision;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.Checkpoints;
import jmlc.engine.format.tensor.FloatTensor;
import jmlc.engine.format.tensor.FloatWeights;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.TinyModels;
import jmlc.engine.format.gguf.GgufModelWriter;
import jmlc.engine.format.hf.HfModelWriter;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.generate.Generator;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.ModelRunner;
import jmlc.engine.runtime.cpu.CpuBackend;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random tiny models written as Hugging Face safetensors and as GGUF, loaded the way users load
 * models, run on every CPU device, against the independent float64 forward pass ({@link Float64Llama}):
 * q0f32 logits to ‖Δ‖/‖ref‖ < 1e-4; q4f16_1 against the float64 pass over the same stored values
 * (the dequantized weights) to the same bound with f32 storage, and to 1e-3 with what users run, its f16 cache and
 * f16 matmul inputs, the float64 pass rounding the same values (rounding to f16 may go the other way); greedy
 * generations agree.
 */
class EndToEndLogitsTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run

    /** The families' tiny models, and Llama with {@code attention_bias} (q/k/v/o biases), in both formats. */
    static Stream<Arguments> cases() {
        ModelConfig llama = TinyModels.config(Architecture.LLAMA), qwen2 = TinyModels.config(Architecture.QWEN2);
        ModelConfig mistral = TinyModels.config(Architecture.MISTRAL), biased = llama.withAttentionBias(true);
        return Stream.of(
                Arguments.of(llama, "hf", "cpu"), Arguments.of(llama, "gguf", "cpu"), Arguments.of(llama, "gguf", "cpu:ref"),
                Arguments.of(qwen2, "hf", "cpu"), Arguments.of(qwen2, "gguf", "cpu"),
                Arguments.of(mistral, "hf", "cpu:ref"),
                Arguments.of(biased, "hf", "cpu"), Arguments.of(biased, "gguf", "cpu"));
    }

    static Path write(Path dir, String format, FloatWeights w) {
        if (format.equals("hf")) {
            HfModelWriter.write(dir, w, TensorDType.F32, 2);
            return dir;
        }
        Path f = dir.resolve("model.gguf");
        GgufModelWriter.write(f, w, GgufModelWriter.Options.of(TensorDType.F32));
        return f;
    }

    static DeviceInfo device(String id) {
        return new CpuBackend().detect().stream().filter(d -> d.id().equals(id)).findFirst().orElseThrow();
    }

    @ParameterizedTest
    @MethodSource("cases")
    void logitsMatchTheFloat64Forward(ModelConfig c, String format, String device, @TempDir Path dir) {
        String arch = name(c);
        FloatWeights w = TinyModels.random(c, SEED);
        Path path = write(dir, format, w);
        int[] tokens = new Random(SEED).ints(7, 0, c.vocabSize()).toArray();
        try (Checkpoint ck = Checkpoints.open(path)) {
            // q0f32; q4f16_1's weights with f32 storage (an f32 cache, no f16 matmul inputs: the arithmetic alone);
            // q4f16_1 as users run it (f16 cache, f16 matmul inputs), the float64 pass rounding the same values
            record Case(QuantMode mode, DType cache, double bound) {}
            for (Case k : List.of(new Case(QuantMode.Q0F32, DType.F32, Precision.F32_STORAGE_MODEL), new Case(QuantMode.Q4F16_1, DType.F32, Precision.F32_STORAGE_MODEL),
                    // f16 storage: a value within float32 error of an f16 rounding boundary rounds the other way
                    // in the float64 pass; the arithmetic bound holds with the f32 storage above
                    new Case(QuantMode.Q4F16_1, DType.F16, Precision.F16_STORAGE_MODEL))) {
                boolean half = k.cache() == DType.F16;
                CompiledModel cm = compile(ck.config(), k.mode(), k.cache(), half ? Set.of() : Set.of("HalfMatmulInputs"));
                // the reference sees the weights the engine sees: exact for q0f32, dequantized for q4f16_1
                FloatWeights ref = k.mode() == QuantMode.Q0F32 ? w : dequantized(w, cm, QuantScheme.Q4F16_1);
                double[][] expect = new Float64Llama(c, ref, half).logits(tokens);
                try (CheckpointWeights weights = new CheckpointWeights(ck, cm.graph());
                     ModelRunner r = new CpuBackend().load(cm, weights, device(device), Progress.NONE)) {
                    float[] got = r.forward(tokens, 0);
                    double err = relError(got, expect);
                    assertTrue(err < k.bound(), arch + " " + format + " " + k + " on " + device + ": ‖Δ‖/‖ref‖ = " + err + " (seed " + SEED + ")");
                }
            }
        }
    }

    static String name(ModelConfig c) {
        return c.architecture() + (c.attentionBias() ? " with attention biases" : "");
    }

    /** The standard pipeline over a graph whose KV cache has the type {@code cache}, all logits kept. */
    static CompiledModel compile(ModelConfig c, QuantMode mode, DType cache, Set<String> disabled) {
        ModelGraph.Options opts = new ModelGraph.Options(32, cache, true);
        return new CompiledModel(c, mode, opts, new Pipeline(Pipeline.standard(mode), disabled, 16).run(ModelGraph.build(c, opts)), 16);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void greedyGenerationAgreesWithFloat64(ModelConfig c, String format, String device, @TempDir Path dir) {
        String arch = name(c);
        FloatWeights w = TinyModels.random(c, SEED + 1);
        Path path = write(dir, format, w);
        int[] prompt = new Random(SEED).ints(4, 0, c.vocabSize()).toArray();
        Float64Llama ref = new Float64Llama(c, w);
        try (Checkpoint ck = Checkpoints.open(path)) {
            CompiledModel cm = CompiledModel.compile(ck.config(), QuantMode.Q0F32, 32, false, Set.of(), 16);
            try (CheckpointWeights weights = new CheckpointWeights(ck, cm.graph());
                 ModelRunner r = new CpuBackend().load(cm, weights, device(device), Progress.NONE)) {
                int[] got = Generator.generate(r, new int[0], 0, prompt, GenerationConfig.greedy(8, Set.of()), t -> { }, () -> false).tokens();
                int[] seq = java.util.Arrays.copyOf(prompt, prompt.length + got.length);
                for (int i = 0; i < got.length; i++) {
                    double[][] l = ref.logits(java.util.Arrays.copyOf(seq, prompt.length + i));
                    int best = argmax(l[l.length - 1]);
                    // a near tie may flip between float32 and float64: then the rest is not comparable
                    if (secondGap(l[l.length - 1]) < 1e-4) break;
                    assertEquals(best, got[i], arch + " " + format + " token " + i + " (seed " + SEED + ")");
                    seq[prompt.length + i] = got[i];
                }
            }
        }
    }

    /** The float weights as the engine stores them after quantization, dequantized again. */
    static FloatWeights dequantized(FloatWeights w, CompiledModel cm, QuantScheme s) {
        Map<String, FloatTensor> out = new HashMap<>(w.tensors());
        // weights the pipeline quantizes: matrices and the embedding table, with K a multiple of the group
        for (var e : w.tensors().entrySet()) {
            FloatTensor t = e.getValue();
            if (t.shape().length != 2 || t.shape()[1] % s.groupSize() != 0) continue;
            int rows = (int) t.shape()[0], cols = (int) t.shape()[1];
            try (Arena a = Arena.ofConfined()) {
                MemorySegment data = a.allocate(s.dataBytes(rows, cols)), scales = a.allocate(s.scaleBytes(rows, cols));
                float[] v = new float[rows * cols], row = new float[cols];
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(t.values(), r * cols, row, 0, cols);
                    GroupQuantizer.quantizeRow(s, row, r, cols, data, scales);
                }
                for (int r = 0; r < rows; r++) {
                    GroupQuantizer.dequantizeRow(s, data, scales, r, cols, row);
                    System.arraycopy(row, 0, v, r * cols, cols);
                }
                out.put(e.getKey(), t.withValues(v));
            }
        }
        return new FloatWeights(w.config(), out);
    }

    static double relError(float[] got, double[][] want) {
        double num = 0, den = 0;
        int v = want[0].length;
        assertEquals(want.length * v, got.length);
        for (int s = 0; s < want.length; s++)
            for (int i = 0; i < v; i++) {
                num += Math.pow(got[s * v + i] - want[s][i], 2);
                den += want[s][i] * want[s][i];
            }
        return Math.sqrt(num / den);
    }

    static int argmax(double[] x) {
        int b = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[b]) b = i;
        return b;
    }

    static double secondGap(double[] x) {
        double best = Double.NEGATIVE_INFINITY, second = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            if (v > best) {
                second = best;
                best = v;
            } else if (v > second) second = v;
        }
        return best - second;
    }
}
