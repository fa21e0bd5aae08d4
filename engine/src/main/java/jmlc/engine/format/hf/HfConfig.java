package jmlc.engine.format.hf;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.tensor.ModelFormatException;

/**
 * Hugging Face {@code config.json} to and from {@link ModelConfig}.
 *
 * <pre>
 * architectures[0]          LlamaForCausalLM | MistralForCausalLM | Qwen2ForCausalLM
 * vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
 * rms_norm_eps, max_position_embeddings                      required
 * num_key_value_heads       default num_attention_heads
 * head_dim                  default hidden_size / num_attention_heads
 * rope_theta                default 10000
 * rope_scaling              null | {"type"|"rope_type": "linear", factor}
 *                           | {"rope_type": "llama3", factor, low_freq_factor, high_freq_factor,
 *                              original_max_position_embeddings}
 * rope_parameters           transformers 5's home of rope_theta and the scaling fields, read when present
 * tie_word_embeddings       default false
 * attention_bias            Llama: biases on q, k, v and o (default false); Qwen2 always has q/k/v biases
 * sliding_window            Mistral (and Qwen2 with use_sliding_window): the context is capped to
 *                           the window, since jmlc attends to every cached position
 * </pre>
 * Rope style is always HALF: Hugging Face checkpoints rotate value i with value i + head_dim/2.
 */
public final class HfConfig {
    /** The file's name in a model directory. */
    public static final String FILE = "config.json";
    private HfConfig() {}

    /** Strict: a second value after the object (trailing garbage) is an error, as are duplicate keys. */
    public static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS, DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    public static ModelConfig read(Path configJson) {
        if (!Files.exists(configJson)) throw new ModelFormatException(configJson, "missing: a Hugging Face model directory needs config.json");
        jmlc.engine.format.tensor.FileMapping.requireRegularFile(configJson, "the model's config.json"); // a FIFO would block the read
        JsonNode root;
        try {
            root = JSON.readTree(configJson.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(configJson, "not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new ModelFormatException(configJson, "expected a JSON object");
        return new Reader(configJson, root).config();
    }

    /** The config.json text for {@code c}, as transformers writes it (keys it needs; no tokenizer ids). */
    public static String toJson(ModelConfig c) {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add(c.architecture().hfNames().getFirst());
        o.put("model_type", c.architecture().ggufName());
        o.put("vocab_size", c.vocabSize());
        o.put("hidden_size", c.hiddenSize());
        o.put("intermediate_size", c.intermediateSize());
        o.put("num_hidden_layers", c.numLayers());
        o.put("num_attention_heads", c.numHeads());
        o.put("num_key_value_heads", c.numKvHeads());
        o.put("head_dim", c.headDim());
        o.put("hidden_act", "silu");
        o.put("rms_norm_eps", c.rmsNormEps());
        o.put("rope_theta", c.ropeTheta());
        switch (c.ropeScaling()) {
            case RopeSpec.Scaling.None n -> o.putNull("rope_scaling");
            case RopeSpec.Scaling.Linear l -> o.putObject("rope_scaling").put("rope_type", "linear").put("type", "linear").put("factor", l.factor());
            case RopeSpec.Scaling.Llama3 s when s.originalMaxPositions() == Math.rint(s.originalMaxPositions()) -> o.putObject("rope_scaling").put("rope_type", "llama3").put("factor", s.factor())
                    .put("low_freq_factor", s.lowFreqFactor()).put("high_freq_factor", s.highFreqFactor())
                    .put("original_max_position_embeddings", (long) s.originalMaxPositions());
            case RopeSpec.Scaling.Llama3 s -> o.putObject("rope_scaling").put("rope_type", "llama3").put("factor", s.factor())
                    .put("low_freq_factor", s.lowFreqFactor()).put("high_freq_factor", s.highFreqFactor())
                    .put("original_max_position_embeddings", s.originalMaxPositions());
        }
        o.put("max_position_embeddings", c.maxPositions());
        o.put("tie_word_embeddings", c.tieEmbeddings());
        if (c.architecture() != Architecture.QWEN2) o.put("attention_bias", c.attentionBias());
        o.put("torch_dtype", "float32");
        return o.toPrettyString();
    }

    /** Reads keys with errors that name config.json, the key, what was expected and what was found. */
    private record Reader(Path file, JsonNode root) {

        ModelConfig config() {
            Architecture arch = architecture();
            int heads = positiveInt("num_attention_heads");
            int hidden = positiveInt("hidden_size");
            int kvHeads = present("num_key_value_heads") ? positiveInt("num_key_value_heads") : heads;
            int headDim = present("head_dim") ? positiveInt("head_dim") : hidden / heads;
            if (!present("head_dim") && hidden % heads != 0)
                throw new ModelFormatException(file, "key 'head_dim' is missing and hidden_size (" + hidden + ") is not a multiple of num_attention_heads (" + heads + "): head size unknown");
            checkUnsupported(arch);

            JsonNode ropeParams = root.get("rope_parameters");
            boolean v5 = ropeParams != null && ropeParams.isObject();
            double theta = v5 ? number(ropeParams, "rope_parameters.rope_theta", 10000) : (present("rope_theta") ? positiveNumber("rope_theta") : 10000);
            RopeSpec.Scaling scaling = v5 ? scaling(ropeParams, "rope_parameters") : scaling(root.get("rope_scaling"), "rope_scaling");

            int maxPositions = positiveInt("max_position_embeddings");
            Integer window = slidingWindow(arch);
            if (window != null) maxPositions = Math.min(maxPositions, window);
            try {
                return new ModelConfig(arch, positiveInt("vocab_size"), hidden, positiveInt("intermediate_size"), positiveInt("num_hidden_layers"),
                        heads, kvHeads, headDim, positiveNumber("rms_norm_eps"), theta, scaling, RopeSpec.Style.HALF, maxPositions,
                        bool("tie_word_embeddings", false), attentionBias(arch));
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(file, "inconsistent config: " + e.getMessage(), e);
            }
        }

        private Architecture architecture() {
            JsonNode a = root.get("architectures");
            if (a == null || !a.isArray() || a.isEmpty() || !a.get(0).isTextual())
                throw error("architectures", "a list of model class names such as [\"LlamaForCausalLM\"]", a);
            String name = a.get(0).asText();
            return Architecture.fromHf(name).orElseThrow(() -> new ModelFormatException(file,
                    "key 'architectures': unsupported architecture '" + name + "'; supported: " + Architecture.supported()));
        }

        /** Features of the config that the Llama graph does not compute. */
        private void checkUnsupported(Architecture arch) {
            if (present("hidden_act") && !root.get("hidden_act").asText().equals("silu"))
                throw error("hidden_act", "\"silu\" (the only MLP activation jmlc computes)", root.get("hidden_act"));
            if (arch == Architecture.MISTRAL && bool("attention_bias", false))
                throw error("attention_bias", "false (Mistral's attention has no biases)", root.get("attention_bias"));
            if (bool("mlp_bias", false)) throw error("mlp_bias", "false (jmlc's MLP has no biases)", root.get("mlp_bias"));
        }

        /** Qwen2: always (q/k/v); Llama: {@code attention_bias} (q/k/v/o); Mistral: never. */
        private boolean attentionBias(Architecture arch) {
            return arch == Architecture.LLAMA ? bool("attention_bias", false) : arch.attentionBias();
        }

        /** The attention window, when the model uses one; null otherwise. */
        private Integer slidingWindow(Architecture arch) {
            boolean used = switch (arch) {
                case MISTRAL -> true;
                case QWEN2 -> bool("use_sliding_window", false);
                case LLAMA -> false;
            };
            return used && present("sliding_window") ? positiveInt("sliding_window") : null;
        }

        private RopeSpec.Scaling scaling(JsonNode s, String key) {
            if (s == null || s.isNull()) return new RopeSpec.Scaling.None();
            if (!s.isObject()) throw error(key, "null or an object", s);
            JsonNode t = s.has("rope_type") ? s.get("rope_type") : s.get("type");
            String type = t == null || t.isNull() ? "default" : t.asText();
            return switch (type) {
                case "default" -> new RopeSpec.Scaling.None();
                case "linear" -> new RopeSpec.Scaling.Linear(number(s, key + ".factor", Double.NaN));
                case "llama3" -> new RopeSpec.Scaling.Llama3(number(s, key + ".factor", Double.NaN), number(s, key + ".low_freq_factor", Double.NaN),
                        number(s, key + ".high_freq_factor", Double.NaN), number(s, key + ".original_max_position_embeddings", Double.NaN));
                default -> throw error(key + ".rope_type", "\"default\", \"linear\" or \"llama3\" (the rope scalings jmlc computes)", t);
            };
        }

        private boolean present(String key) {
            JsonNode v = root.get(key);
            return v != null && !v.isNull();
        }

        private int positiveInt(String key) {
            JsonNode v = root.get(key);
            if (v == null || v.isNull()) throw new ModelFormatException(file, "missing key '" + key + "' (expected a positive integer)");
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() <= 0) throw error(key, "a positive integer", v);
            return v.asInt();
        }

        private double positiveNumber(String key) {
            JsonNode v = root.get(key);
            if (v == null || v.isNull()) throw new ModelFormatException(file, "missing key '" + key + "' (expected a finite positive number)");
            if (!finitePositive(v)) throw error(key, "a finite positive number", v);
            return v.asDouble();
        }

        /** Positive number at {@code node[last part of path]}; {@code dflt} when absent, or NaN to require it. */
        private double number(JsonNode node, String path, double dflt) {
            JsonNode v = node.get(path.substring(path.lastIndexOf('.') + 1));
            if (v == null || v.isNull()) {
                if (Double.isNaN(dflt)) throw new ModelFormatException(file, "missing key '" + path + "' (expected a finite positive number)");
                return dflt;
            }
            if (!finitePositive(v)) throw error(path, "a finite positive number", v);
            return v.asDouble();
        }

        /** JSON has no Infinity, but 1e400 reads as one: with rms_norm_eps = Infinity every logit is 0. */
        private static boolean finitePositive(JsonNode v) {
            return v.isNumber() && v.asDouble() > 0 && Double.isFinite(v.asDouble());
        }

        private boolean bool(String key, boolean dflt) {
            JsonNode v = root.get(key);
            if (v == null || v.isNull()) return dflt;
            if (!v.isBoolean()) throw error(key, "true or false", v);
            return v.asBoolean();
        }

        private ModelFormatException error(String key, String expected, JsonNode found) {
            String f = found == null ? "nothing" : found.toString();
            if (f.length() > 80) f = f.substring(0, 80) + "...";
            return new ModelFormatException(file, "key '" + key + "': expected " + expected + ", found " + f);
        }
    }
}
