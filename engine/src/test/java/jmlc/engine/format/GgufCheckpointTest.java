package jmlc.engine.format;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.gguf.GgufNames;
import jmlc.engine.format.gguf.GgufValueType;
import jmlc.engine.format.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import jmlc.engine.format.tensor.FloatTensor;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorDType;

/** Whole GGUF models that parse but do not describe a complete model of their config. */
class GgufCheckpointTest {
    @TempDir
    Path dir;

    /** The tiny llama's metadata and tensors (F32, unpermuted: shapes are all that matter here), less {@code drop}, {@code replace} swapped in. */
    private Path write(String drop, FloatTensor replace) {
        ModelConfig c = TinyModels.config(Architecture.LLAMA);
        GgufWriter g = new GgufWriter().putString("general.architecture", "llama").putU32("llama.context_length", c.maxPositions())
                .putU32("llama.embedding_length", c.hiddenSize()).putU32("llama.feed_forward_length", c.intermediateSize())
                .putU32("llama.block_count", c.numLayers()).putU32("llama.attention.head_count", c.numHeads())
                .putU32("llama.attention.head_count_kv", c.numKvHeads()).putF32("llama.attention.layer_norm_rms_epsilon", c.rmsNormEps())
                .putArray("tokenizer.ggml.tokens", GgufValueType.STRING, java.util.Collections.nCopies(c.vocabSize(), "t"));
        for (FloatTensor t : TinyModels.random(c, 1).tensors().values()) {
            String name = GgufNames.toGguf(t.name()).orElseThrow();
            if (name.equals(drop)) continue;
            g.add(name, replace != null && replace.name().equals(name) ? replace : t, TensorDType.F32);
        }
        Path f = dir.resolve("m.gguf");
        g.write(f);
        return f;
    }

    private static void expect(Path f, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Checkpoints.open(f).close());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        for (String s : fragments) assertTrue(e.getMessage().contains(s), "'" + s + "' in: " + e.getMessage());
    }

    @Test
    void missingTensorIsNamedInBothNamings() {
        expect(write("blk.1.ffn_down.weight", null), "missing tensor model.layers.1.mlp.down_proj.weight (blk.1.ffn_down.weight)", "[64, 128]");
    }

    @Test
    void wronglyShapedTensor() {
        expect(write(null, new FloatTensor("blk.0.attn_v.weight", new long[] {64, 64}, new float[64 * 64])),
                "tensor model.layers.0.self_attn.v_proj.weight (blk.0.attn_v.weight)", "has shape [64, 64]", "expected [32, 64]");
    }

    @Test
    void withoutEmbeddingsTheVocabularyComesFromTheTokenList() {
        // no token_embd: the config still reads (vocab 256 from tokenizer.ggml.tokens); validation names the tensor
        expect(write("token_embd.weight", null), "missing tensor model.embed_tokens.weight (token_embd.weight)", "[256, 64]");
    }

    @Test
    void arraysNestedTooDeep() {
        GgufWriter.Array a = new GgufWriter.Array(GgufValueType.UINT8, List.of(1));
        for (int i = 0; i < 12; i++) a = new GgufWriter.Array(GgufValueType.ARRAY, List.of(a));
        Path f = dir.resolve("deep.gguf");
        new GgufWriter().put("test.deep", GgufValueType.ARRAY, a).write(f);
        expect(f, "key 'test.deep'", "nested more than 8 deep");
    }

    @Test
    void ggufWithoutArchitecture() {
        Path f = dir.resolve("bare.gguf");
        new GgufWriter().putString("general.name", "x").write(f);
        expect(f, "missing key 'general.architecture'");
    }

    @Test
    void tensorCountOneShortDoesNotTurnTheHeadIntoTiedEmbeddings() throws java.io.IOException {
        // output.weight is the last tensor: with tensor_count one short it went unread and the model ran tied (issue 14)
        Path f = write(null, null);
        FileBytes b = FileBytes.of(f);
        b.patch(8, b.u64(8) - 1, 8);
        expect(f, "tensor_count");
    }
}
