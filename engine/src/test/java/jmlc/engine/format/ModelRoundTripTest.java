package jmlc.engine.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.gguf.GgufModelWriter;
import jmlc.engine.format.gguf.GgufWriter;
import jmlc.engine.format.gguf.GgufValueType;
import jmlc.engine.format.hf.HfModelWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import jmlc.engine.format.tensor.FloatTensor;
import jmlc.engine.format.tensor.FloatWeights;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorView;
import jmlc.engine.format.tensor.ExpectedTensors;

/** One set of random weights written as a Hugging Face directory and as GGUF: both read back as the same model. */
class ModelRoundTripTest {
    @TempDir
    Path dir;

    private static ModelConfig withScaling(ModelConfig c, RopeSpec.Scaling s, boolean tied) {
        return new ModelConfig(c.architecture(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numLayers(), c.numHeads(), c.numKvHeads(),
                c.headDim(), c.rmsNormEps(), c.ropeTheta(), s, c.ropeStyle(), c.maxPositions(), tied, c.attentionBias());
    }

    private static ModelConfig withStyle(ModelConfig c, RopeSpec.Style style) {
        return new ModelConfig(c.architecture(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numLayers(), c.numHeads(), c.numKvHeads(),
                c.headDim(), c.rmsNormEps(), c.ropeTheta(), c.ropeScaling(), style, c.maxPositions(), c.tieEmbeddings(), c.attentionBias());
    }

    /** Writes both files, opens both, checks the configs agree but for rope style and the GGUF tensors are the HF ones (q/k permuted for llama). */
    private void sameModel(ModelConfig config, long seed) {
        FloatWeights w = TinyModels.random(config, seed);
        Path hfDir = dir.resolve("hf-" + seed), gguf = dir.resolve("m-" + seed + ".gguf");
        HfModelWriter.write(hfDir, w, TensorDType.F32, 2);
        GgufModelWriter.write(gguf, w, GgufModelWriter.Options.of(TensorDType.F32));
        try (Checkpoint hf = Checkpoints.open(hfDir); Checkpoint gg = Checkpoints.open(gguf)) {
            assertInstanceOf(GgufCheckpoint.class, gg);
            boolean llama = config.architecture() != Architecture.QWEN2;
            assertEquals(llama ? RopeSpec.Style.INTERLEAVED : RopeSpec.Style.HALF, gg.config().ropeStyle());
            ModelConfig expected = config.architecture() == Architecture.MISTRAL
                    ? new ModelConfig(Architecture.LLAMA, config.vocabSize(), config.hiddenSize(), config.intermediateSize(), config.numLayers(),
                            config.numHeads(), config.numKvHeads(), config.headDim(), config.rmsNormEps(), config.ropeTheta(), config.ropeScaling(),
                            config.ropeStyle(), config.maxPositions(), config.tieEmbeddings(), config.attentionBias())
                    : config;
            assertEquals(config, hf.config());
            assertEquals(expected, withStyle(gg.config(), RopeSpec.Style.HALF), "GGUF config = HF config but for rope style (mistral files say llama)");
            for (String name : ExpectedTensors.of(config).keySet()) {
                TensorView a = hf.tensor(name), b = gg.tensor(name);
                assertEquals(java.util.Arrays.toString(a.shape()), java.util.Arrays.toString(b.shape()), name);
                boolean permuted = llama && (name.contains("q_proj") || name.contains("k_proj"));
                int heads = name.contains("q_proj") ? config.numHeads() : config.numKvHeads();
                int rows = (int) a.dim(0), cols = a.rank() == 1 ? 1 : (int) a.dim(1), hd = rows / heads;
                for (int r = 0; r < rows; r++) {
                    // GGUF row 2i + j of a head is HF row j·hd/2 + i (LlamaModel.permute)
                    int src = permuted ? (r / hd) * hd + (r % 2) * (hd / 2) + (r % hd) / 2 : r;
                    for (int c = 0; c < cols; c++)
                        assertEquals(a.getFloat((long) src * cols + c), b.getFloat((long) r * cols + c), name + "[" + r + ", " + c + "]");
                }
            }
            if (config.tieEmbeddings()) assertTrue(!gg.tensors().containsKey("lm_head.weight"));
        }
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void bothFormatsDescribeTheSameModel(Architecture a) {
        sameModel(TinyModels.config(a), 1);
    }

    @Test
    void tiedEmbeddingsAndRopeScalingsSurviveBothFormats() {
        ModelConfig llama = TinyModels.config(Architecture.LLAMA);
        sameModel(withScaling(llama, new RopeSpec.Scaling.Linear(2), true), 2);
        sameModel(withScaling(llama, new RopeSpec.Scaling.Llama3(8, 1, 4, 512), false), 3);
        sameModel(withScaling(TinyModels.config(Architecture.QWEN2), new RopeSpec.Scaling.None(), true), 4);
    }

    @Test
    void quantizedGgufStaysCloseAndKeepsOneDimensionalTensorsExact() {
        FloatWeights w = TinyModels.random(TinyModels.config(Architecture.QWEN2), 5);
        for (TensorDType q : new TensorDType[] {TensorDType.Q8_0, TensorDType.Q4_0}) {
            Path f = dir.resolve(q + ".gguf");
            GgufModelWriter.write(f, w, GgufModelWriter.Options.of(q));
            try (Checkpoint ck = Checkpoints.open(f)) {
                for (FloatTensor t : w.tensors().values()) {
                    TensorView v = ck.tensor(t.name());
                    assertEquals(t.shape().length == 1 ? TensorDType.F32 : q, v.dtype(), t.name());
                    double err = 0, norm = 0;
                    for (int i = 0; i < t.values().length; i++) {
                        err += Math.pow(v.getFloat(i) - t.values()[i], 2);
                        norm += Math.pow(t.values()[i], 2);
                    }
                    double rel = Math.sqrt(err / norm);
                    // rms error of uniform rounding over a block's range: ~1% for 8 bits, ~15% for 4 bits of Gaussian data
                    assertTrue(rel < (q == TensorDType.Q8_0 ? 0.02 : 0.2), q + " " + t.name() + " relative error " + rel);
                    if (t.shape().length == 1) assertEquals(0, rel, t.name());
                }
            }
        }
    }

    @Test
    void ggufV2AndExtraMetadataForTheTokenizer() {
        FloatWeights w = TinyModels.random(TinyModels.config(Architecture.LLAMA), 6);
        Path f = dir.resolve("v2.gguf");
        GgufModelWriter.write(f, w, new GgufModelWriter.Options(TensorDType.F16, 2, Map.of(
                "tokenizer.ggml.model", new GgufWriter.Typed(GgufValueType.STRING, "llama"),
                "tokenizer.ggml.tokens", new GgufWriter.Typed(GgufValueType.ARRAY,
                        new GgufWriter.Array(GgufValueType.STRING, java.util.Collections.nCopies(256, "t"))))));
        try (Checkpoint ck = Checkpoints.open(f)) {
            GgufCheckpoint g = assertInstanceOf(GgufCheckpoint.class, ck);
            assertEquals(2, g.version());
            assertEquals("llama", g.metadata().get("tokenizer.ggml.model"));
            assertEquals(256, ((java.util.List<?>) g.metadata().get("tokenizer.ggml.tokens")).size());
            assertEquals("blk.0.attn_q.weight", g.fileName("model.layers.0.self_attn.q_proj.weight"));
        }
    }
}
