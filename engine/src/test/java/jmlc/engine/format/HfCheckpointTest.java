package jmlc.engine.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.hf.HfConfig;
import jmlc.engine.format.hf.HfModelWriter;
import jmlc.engine.format.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import jmlc.engine.format.tensor.FloatTensor;
import jmlc.engine.format.tensor.FloatWeights;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorEncoding;
import jmlc.engine.format.tensor.TensorView;

class HfCheckpointTest {
    @TempDir
    Path dir;

    static void assertSameValues(FloatTensor want, TensorView got, TensorDType stored) {
        assertEquals(java.util.Arrays.toString(want.shape()), java.util.Arrays.toString(got.shape()), got.name());
        for (int i = 0; i < want.values().length; i++) {
            float w = switch (stored) {
                case F32 -> want.values()[i];
                case F16 -> Float.float16ToFloat(Float.floatToFloat16(want.values()[i]));
                case BF16 -> Float.intBitsToFloat(TensorEncoding.toBf16(want.values()[i]) << 16);
                default -> throw new AssertionError(stored);
            };
            assertEquals(w, got.getFloat(i), got.name() + "[" + i + "]");
        }
    }

    @Test
    void singleFileDirectoryOpensWithItsConfigAndTensors() {
        FloatWeights w = TinyModels.random(TinyModels.config(Architecture.LLAMA), 1);
        HfModelWriter.write(dir, w, TensorDType.F32, 1);
        try (Checkpoint ck = Checkpoints.open(dir)) {
            HfCheckpoint hf = assertInstanceOf(HfCheckpoint.class, ck);
            assertEquals(dir, hf.directory());
            assertEquals(w.config(), ck.config());
            assertEquals(new ArrayList<>(w.tensors().keySet()), new ArrayList<>(ck.tensors().keySet()));
            for (FloatTensor t : w.tensors().values()) assertSameValues(t, ck.tensor(t.name()), TensorDType.F32);
        }
    }

    @Test
    void shardedBf16QwenDirectory() {
        FloatWeights w = TinyModels.random(TinyModels.config(Architecture.QWEN2), 2);
        HfModelWriter.write(dir, w, TensorDType.BF16, 3);
        assertTrue(Files.exists(dir.resolve("model.safetensors.index.json")));
        assertTrue(Files.exists(dir.resolve("model-00003-of-00003.safetensors")));
        try (Checkpoint ck = Checkpoints.open(dir)) {
            assertEquals(w.config(), ck.config());
            assertTrue(ck.tensors().containsKey("model.layers.1.self_attn.k_proj.bias"));
            for (FloatTensor t : w.tensors().values()) assertSameValues(t, ck.tensor(t.name()), TensorDType.BF16);
        }
    }

    @Test
    void aConfigOrWeightsFileStandsForItsDirectory() {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.MISTRAL), 3), TensorDType.F16, 1);
        try (Checkpoint ck = Checkpoints.open(dir.resolve("config.json"))) {
            assertEquals(dir.toAbsolutePath(), ck.path());
        }
        try (Checkpoint ck = Checkpoints.open(dir.resolve("model.safetensors"))) {
            assertEquals(Architecture.MISTRAL, ck.config().architecture());
        }
    }

    private static ModelFormatException expect(Path p, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Checkpoints.open(p).close());
        for (String s : fragments) assertTrue(e.getMessage().contains(s), "'" + s + "' in: " + e.getMessage());
        return e;
    }

    /** A directory holding {@code w}'s tensors minus one, or one of them replaced. */
    private void writeWith(FloatWeights w, String drop, FloatTensor replace) throws IOException {
        Files.writeString(dir.resolve("config.json"), HfConfig.toJson(w.config()));
        SafetensorsWriter sw = new SafetensorsWriter();
        for (FloatTensor t : w.tensors().values()) {
            if (t.name().equals(drop)) continue;
            sw.add(replace != null && replace.name().equals(t.name()) ? replace : t, TensorDType.F32);
        }
        sw.write(dir.resolve("model.safetensors"));
    }

    @Test
    void missingTensorIsNamedWithItsExpectedShape() throws IOException {
        FloatWeights w = TinyModels.random(TinyModels.config(Architecture.LLAMA), 4);
        writeWith(w, "model.layers.1.mlp.up_proj.weight", null);
        expect(dir, dir.toString(), "missing tensor model.layers.1.mlp.up_proj.weight", "[128, 64]");
    }

    @Test
    void wronglyShapedTensorIsNamedWithBothShapes() throws IOException {
        FloatWeights w = TinyModels.random(TinyModels.config(Architecture.LLAMA), 5);
        String k = "model.layers.0.self_attn.k_proj.weight";
        writeWith(w, null, new FloatTensor(k, new long[] {64, 64}, new float[64 * 64]));
        expect(dir, "model.safetensors", "tensor " + k, "has shape [64, 64]", "expected [32, 64]", "kv_heads=2");
    }

    @Test
    void tiedModelNeedsNoLmHeadButUntiedDoes() throws IOException {
        ModelConfig untied = TinyModels.config(Architecture.LLAMA);
        FloatWeights w = TinyModels.random(untied, 6);
        writeWith(w, "lm_head.weight", null);
        expect(dir, "missing tensor lm_head.weight", "[256, 64]");
        ModelConfig tied = new ModelConfig(untied.architecture(), untied.vocabSize(), untied.hiddenSize(), untied.intermediateSize(), untied.numLayers(),
                untied.numHeads(), untied.numKvHeads(), untied.headDim(), untied.rmsNormEps(), untied.ropeTheta(), untied.ropeScaling(), untied.ropeStyle(),
                untied.maxPositions(), true, false);
        HfModelWriter.write(dir, TinyModels.random(tied, 6), TensorDType.F32, 1);
        try (Checkpoint ck = Checkpoints.open(dir)) {
            assertTrue(ck.config().tieEmbeddings());
            assertTrue(!ck.tensors().containsKey("lm_head.weight"));
        }
    }

    @Test
    void missingConfigJson() throws IOException {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.LLAMA), 7), TensorDType.F32, 1);
        Files.delete(dir.resolve("config.json"));
        expect(dir, "config.json", "missing");
    }

    @Test
    void missingShardNamedInTheIndex() throws IOException {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.LLAMA), 8), TensorDType.F16, 2);
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        expect(dir, "model-00002-of-00002.safetensors", "no such file", "model.safetensors.index.json");
    }

    @Test
    void indexPlacingATensorInTheWrongShard() throws IOException {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.LLAMA), 9), TensorDType.F16, 2);
        Path index = dir.resolve("model.safetensors.index.json");
        String text = Files.readString(index);
        Files.writeString(index, text.replace("\"lm_head.weight\" : \"model-00002-of-00002.safetensors\"", "\"lm_head.weight\" : \"model-00001-of-00002.safetensors\""));
        expect(dir, "model-00001-of-00002.safetensors", "no tensor lm_head.weight", "index");
    }

    @Test
    void directoryWithoutSafetensors() throws IOException {
        Files.writeString(dir.resolve("config.json"), HfConfig.toJson(TinyModels.config(Architecture.LLAMA)));
        Files.writeString(dir.resolve("pytorch_model.bin"), "not read");
        expect(dir, "no model.safetensors or model.safetensors.index.json", "found: config.json, pytorch_model.bin");
    }

    @Test
    void unsupportedDtypeInAShard() throws IOException {
        Files.writeString(dir.resolve("config.json"), HfConfig.toJson(TinyModels.config(Architecture.LLAMA)));
        // the writer cannot make I8 tensors: write the file by hand
        byte[] json = "{\"model.embed_tokens.weight\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[0,4]}}".getBytes();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + json.length + 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Files.write(dir.resolve("model.safetensors"), b.array());
        expect(dir, "model.safetensors", "model.embed_tokens.weight", "unsupported dtype 'I8'");
    }

    @Test
    void notAModel() throws IOException {
        expect(dir.resolve("nothing-here"), "no such file or directory");
        Path txt = Files.writeString(dir.resolve("notes.txt"), "hello");
        expect(txt, "not a model");
    }

    @Test
    void tensorLookupNamesFileAndTensor() {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.LLAMA), 10), TensorDType.F32, 1);
        try (Checkpoint ck = Checkpoints.open(dir)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> ck.tensor("model.layers.9.mlp.up_proj.weight"));
            assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("model.layers.9.mlp.up_proj.weight"), e.getMessage());
        }
    }

    // ---- issue 14: the shard index, read as strictly as config.json ----

    @Test
    void indexWithTrailingGarbage() throws IOException {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.LLAMA), 11), TensorDType.F16, 2);
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, Files.readString(index) + "]");
        expect(dir, "model.safetensors.index.json", "not valid JSON");
    }

    @Test
    void indexNamingAShardWithANulByte() throws IOException {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.LLAMA), 12), TensorDType.F16, 2);
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, Files.readString(index).replace("\"lm_head.weight\" : \"model-00002-of-00002.safetensors\"",
                "\"lm_head.weight\" : \"model-00002\\u0000.safetensors\""));
        expect(dir, "model.safetensors.index.json", "weight_map.lm_head.weight", "not a valid file name");
    }
}
