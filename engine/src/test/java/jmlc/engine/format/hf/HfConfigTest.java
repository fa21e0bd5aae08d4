package jmlc.engine.format.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json files as published on the Hugging Face Hub (keys and values of the real models). */
class HfConfigTest {
    @TempDir
    Path dir;

    private ModelConfig read(String json) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, json);
        return HfConfig.read(f);
    }

    private void expectError(String json, String... fragments) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, json);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfConfig.read(f));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        for (String s : fragments) assertTrue(e.getMessage().contains(s), "'" + s + "' in: " + e.getMessage());
    }

    static final String TINYLLAMA = """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 1, "eos_token_id": 2,
             "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 5632,
             "max_position_embeddings": 2048, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 22,
             "num_key_value_heads": 4, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 10000.0,
             "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.35.0", "use_cache": true,
             "vocab_size": 32000}
            """;

    @Test
    void tinyLlama() throws IOException {
        assertEquals(new ModelConfig(Architecture.LLAMA, 32000, 2048, 5632, 22, 32, 4, 64, 1e-5, 10000, new RopeSpec.Scaling.None(),
                RopeSpec.Style.HALF, 2048, false, false), read(TINYLLAMA));
    }

    @Test
    void llama31WithLlama3RopeScaling() throws IOException {
        ModelConfig c = read("""
                {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 128000,
                 "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
                 "intermediate_size": 14336, "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
                 "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
                 "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192,
                                  "rope_type": "llama3"},
                 "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 128256}
                """);
        assertEquals(new RopeSpec.Scaling.Llama3(8, 1, 4, 8192), c.ropeScaling());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(8, c.numKvHeads());
        assertEquals(128, c.headDim());
        assertEquals(131072, c.maxPositions());
    }

    @Test
    void mistralV01CapsTheContextToItsSlidingWindow() throws IOException {
        ModelConfig c = read("""
                {"architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096,
                 "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
                 "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
                 "sliding_window": 4096, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 32000}
                """);
        assertEquals(Architecture.MISTRAL, c.architecture());
        assertEquals(4096, c.maxPositions());
        assertEquals(false, c.attentionBias());
    }

    @Test
    void llamaAttentionBiasReadsAndWritesBack() throws IOException {
        ModelConfig c = read(TINYLLAMA.replace("\"attention_bias\": false", "\"attention_bias\": true"));
        assertEquals(true, c.attentionBias());
        assertEquals(false, read(TINYLLAMA).attentionBias());
        assertEquals(c, read(HfConfig.toJson(c)));
    }

    @Test
    void mistralV02HasNoWindow() throws IOException {
        ModelConfig c = read("""
                {"architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336, "max_position_embeddings": 32768,
                 "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
                 "rope_theta": 1000000.0, "sliding_window": null, "vocab_size": 32000, "head_dim": null}
                """);
        assertEquals(32768, c.maxPositions());
        assertEquals(1e6, c.ropeTheta());
        assertEquals(128, c.headDim());
    }

    @Test
    void qwen2TiedWithBiasesAndAnUnusedWindow() throws IOException {
        ModelConfig c = read("""
                {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645,
                 "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864, "max_position_embeddings": 32768,
                 "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
                 "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
                 "torch_dtype": "bfloat16", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}
                """);
        assertEquals(new ModelConfig(Architecture.QWEN2, 151936, 896, 4864, 24, 14, 2, 64, 1e-6, 1e6, new RopeSpec.Scaling.None(),
                RopeSpec.Style.HALF, 32768, true, true), c);
    }

    @Test
    void defaultsAndLinearScaling() throws IOException {
        ModelConfig c = read("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "rms_norm_eps": 1e-6, "max_position_embeddings": 256, "vocab_size": 100,
                 "rope_scaling": {"type": "linear", "factor": 4.0}}
                """);
        assertEquals(4, c.numKvHeads());
        assertEquals(16, c.headDim());
        assertEquals(10000, c.ropeTheta());
        assertEquals(new RopeSpec.Scaling.Linear(4), c.ropeScaling());
        assertEquals(false, c.tieEmbeddings());
    }

    /** transformers 5 moves rope_theta and the scaling into rope_parameters. */
    @Test
    void transformers5RopeParameters() throws IOException {
        ModelConfig c = read("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "rms_norm_eps": 1e-6, "max_position_embeddings": 256, "vocab_size": 100,
                 "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0, "low_freq_factor": 1.0,
                                     "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}
                """);
        assertEquals(500000, c.ropeTheta());
        assertEquals(new RopeSpec.Scaling.Llama3(32, 1, 4, 8192), c.ropeScaling());
    }

    @Test
    void writtenConfigReadsBack() throws IOException {
        for (Architecture a : Architecture.values()) {
            ModelConfig c = TinyModels.config(a);
            assertEquals(c, read(HfConfig.toJson(c)));
        }
        ModelConfig scaled = new ModelConfig(Architecture.LLAMA, 300, 96, 160, 1, 6, 3, 32, 1e-6, 500000,
                new RopeSpec.Scaling.Llama3(8, 1, 4, 8192), RopeSpec.Style.HALF, 4096, true, false);
        assertEquals(scaled, read(HfConfig.toJson(scaled)));
    }

    @Test
    void errorsNameTheKeyTheExpectationAndTheValue() throws IOException {
        expectError(TINYLLAMA.replace("\"hidden_size\": 2048,", ""), "missing key 'hidden_size'", "positive integer");
        expectError(TINYLLAMA.replace("\"hidden_size\": 2048", "\"hidden_size\": \"2048\""), "key 'hidden_size'", "positive integer", "\"2048\"");
        expectError(TINYLLAMA.replace("\"num_hidden_layers\": 22", "\"num_hidden_layers\": -1"), "key 'num_hidden_layers'", "-1");
        expectError(TINYLLAMA.replace("\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": true"), "key 'rms_norm_eps'", "positive number", "true");
        expectError(TINYLLAMA.replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": 0"), "key 'tie_word_embeddings'", "true or false");
        expectError(TINYLLAMA.replace("LlamaForCausalLM", "GPT2LMHeadModel"), "unsupported architecture 'GPT2LMHeadModel'", "Qwen2ForCausalLM", "MistralForCausalLM");
        expectError(TINYLLAMA.replace("[\"LlamaForCausalLM\"]", "[]"), "key 'architectures'");
        expectError(TINYLLAMA.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}"),
                "rope_scaling.rope_type", "\"yarn\"", "linear", "llama3");
        expectError(TINYLLAMA.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}"),
                "missing key 'rope_scaling.low_freq_factor'");
        expectError(TINYLLAMA.replace("\"num_key_value_heads\": 4", "\"num_key_value_heads\": 5"), "inconsistent config", "multiple of num_key_value_heads");
        expectError(TINYLLAMA.replace("\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\""), "key 'hidden_act'", "\"gelu\"");
        expectError(TINYLLAMA.replace("\"attention_bias\": false", "\"mlp_bias\": true"), "key 'mlp_bias'");
        expectError(TINYLLAMA.replace("LlamaForCausalLM", "MistralForCausalLM").replace("\"attention_bias\": false", "\"attention_bias\": true"),
                "key 'attention_bias'", "Mistral");
        expectError("{\"architectures\": [\"LlamaForCausalLM\"], ", "not valid JSON");
    }

    @Test
    void missingConfigJson() {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfConfig.read(dir.resolve("config.json")));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("missing"), e.getMessage());
    }

    // ---- issue 14: numbers must be finite, and nothing may follow the JSON object ----

    @Test
    void infiniteNumbersAreRefused() throws IOException {
        // 1e400 parses as Infinity: with rms_norm_eps = Infinity every logit was 0
        expectError(TINYLLAMA.replace("\"rope_theta\": 10000.0", "\"rope_theta\": 1e400"), "key 'rope_theta'", "finite positive number", "Infinity");
        expectError(TINYLLAMA.replace("\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": 1e400"), "key 'rms_norm_eps'", "finite positive number");
        expectError(TINYLLAMA.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": -1e400}"),
                "rope_scaling.factor", "finite positive number");
    }

    @Test
    void trailingGarbageIsRefused() throws IOException {
        read(TINYLLAMA + "\n  \n"); // white space is fine
        expectError(TINYLLAMA + "garbage", "not valid JSON");
        expectError(TINYLLAMA + "{}", "not valid JSON", "Trailing token");
    }
}
