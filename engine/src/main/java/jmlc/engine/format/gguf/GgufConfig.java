package jmlc.engine.format.gguf;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorView;

/**
 * GGUF metadata to {@link ModelConfig} (keys as llama.cpp's converter writes them, {@code <arch>}
 * being general.architecture):
 * <pre>
 * general.architecture                    llama (Llama, Mistral, TinyLlama) | qwen2
 * &lt;arch&gt;.embedding_length                 hidden_size
 * &lt;arch&gt;.feed_forward_length              intermediate_size
 * &lt;arch&gt;.block_count                      num_hidden_layers
 * &lt;arch&gt;.attention.head_count             num_attention_heads
 * &lt;arch&gt;.attention.head_count_kv          num_key_value_heads (default head_count)
 * &lt;arch&gt;.attention.key_length             head_dim (default embedding_length / head_count)
 * &lt;arch&gt;.attention.layer_norm_rms_epsilon rms_norm_eps
 * &lt;arch&gt;.rope.freq_base                   rope_theta (default 10000)
 * &lt;arch&gt;.rope.dimension_count            must equal head_dim (no partial rotary)
 * &lt;arch&gt;.rope.scaling.type / .factor     "none" | "linear" (older files: rope.scale_linear)
 * rope_freqs.weight tensor                Llama 3 scaling ({@link Llama3RopeFactors})
 * &lt;arch&gt;.context_length                   max_position_embeddings
 * &lt;arch&gt;.vocab_size                       vocab_size (else token_embd's rows, else the token list)
 * output.weight absent                    tie_word_embeddings
 * </pre>
 * Rope style: llama.cpp runs the {@code llama} architecture with NORM rope, which rotates
 * consecutive pairs ("operating on pairs of consecutive head values", llama_model_rope_type in
 * src/llama-model.cpp), and its converter permutes the q and k rows of Hugging Face checkpoints to
 * match ({@code LlamaModel.permute}: reshape(n_head, 2, rows/n_head/2, cols).swapaxes(1, 2)), so
 * llama files are INTERLEAVED. {@code qwen2} runs NEOX rope ("pairs offset by n_rot/2") on
 * unpermuted rows: HALF, as in Hugging Face.
 */
public final class GgufConfig {
    private GgufConfig() {}

    /**
     * @param tensors the file's tensors by GGUF name (for the vocabulary size, tied embeddings and
     *                Llama 3 rope divisors)
     */
    public static ModelConfig read(Path file, Map<String, Object> md, Map<String, TensorView> tensors) {
        Keys k = new Keys(file, md);
        String archName = k.string("general.architecture");
        Architecture arch = Architecture.fromGguf(archName).orElseThrow(() -> new ModelFormatException(file,
                "key 'general.architecture': unsupported architecture '" + archName + "'; supported: " + Architecture.supported()));
        String p = archName + ".";
        int hidden = k.positiveInt(p + "embedding_length");
        int heads = k.positiveInt(p + "attention.head_count");
        int kvHeads = md.containsKey(p + "attention.head_count_kv") ? k.positiveInt(p + "attention.head_count_kv") : heads;
        int headDim;
        if (md.containsKey(p + "attention.key_length")) headDim = k.positiveInt(p + "attention.key_length");
        else if (hidden % heads == 0) headDim = hidden / heads;
        else throw new ModelFormatException(file, "key '" + p + "attention.key_length' is missing and embedding_length " + hidden
                + " is not a multiple of head_count " + heads + ": head size unknown");
        if (md.containsKey(p + "attention.value_length") && k.positiveInt(p + "attention.value_length") != headDim)
            throw new ModelFormatException(file, "key '" + p + "attention.value_length': expected " + headDim + " (the key length), found " + md.get(p + "attention.value_length"));
        if (md.containsKey(p + "rope.dimension_count") && k.positiveInt(p + "rope.dimension_count") != headDim)
            throw new ModelFormatException(file, "key '" + p + "rope.dimension_count': expected " + headDim
                    + " (the head size; jmlc rotates whole heads), found " + md.get(p + "rope.dimension_count"));
        double theta = md.containsKey(p + "rope.freq_base") ? k.positiveNumber(p + "rope.freq_base") : 10000;
        RopeSpec.Scaling scaling = scaling(k, p, file, tensors, theta, headDim);

        TensorView embed = tensors.get("token_embd.weight");
        int vocab;
        if (md.containsKey(p + "vocab_size")) vocab = k.positiveInt(p + "vocab_size");
        else if (embed != null && embed.rank() == 2 && embed.dim(0) > 0 && embed.dim(0) <= Integer.MAX_VALUE) vocab = (int) embed.dim(0);
        else if (md.get("tokenizer.ggml.tokens") instanceof List<?> tokens && !tokens.isEmpty()) vocab = tokens.size();
        else throw new ModelFormatException(file, "vocabulary size unknown: no key '" + p + "vocab_size', no 2-D token_embd.weight and no tokenizer.ggml.tokens");

        RopeSpec.Style style = arch == Architecture.QWEN2 ? RopeSpec.Style.HALF : RopeSpec.Style.INTERLEAVED;
        try {
            return new ModelConfig(arch, vocab, hidden, k.positiveInt(p + "feed_forward_length"), k.positiveInt(p + "block_count"), heads, kvHeads, headDim,
                    k.positiveNumber(p + "attention.layer_norm_rms_epsilon"), theta, scaling, style, k.positiveInt(p + "context_length"),
                    !tensors.containsKey("output.weight"), attentionBias(arch, tensors));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, "inconsistent metadata: " + e.getMessage(), e);
        }
    }

    /** Qwen2 always has q/k/v biases; a llama file has them (with o's) when it stores {@code blk.0.attn_q.bias}, as llama.cpp reads them. */
    private static boolean attentionBias(Architecture arch, Map<String, TensorView> tensors) {
        return arch == Architecture.LLAMA ? tensors.containsKey("blk.0.attn_q.bias") : arch.attentionBias();
    }

    private static RopeSpec.Scaling scaling(Keys k, String p, Path file, Map<String, TensorView> tensors, double theta, int headDim) {
        String type = k.md.containsKey(p + "rope.scaling.type") ? k.string(p + "rope.scaling.type") : "none";
        RopeSpec.Scaling s = switch (type) {
            case "none" -> k.md.containsKey(p + "rope.scale_linear") && k.positiveNumber(p + "rope.scale_linear") != 1
                    ? new RopeSpec.Scaling.Linear(k.positiveNumber(p + "rope.scale_linear")) : new RopeSpec.Scaling.None();
            case "linear" -> {
                double f = k.positiveNumber(p + "rope.scaling.factor");
                yield f == 1 ? new RopeSpec.Scaling.None() : new RopeSpec.Scaling.Linear(f);
            }
            default -> throw new ModelFormatException(file, "key '" + p + "rope.scaling.type': expected \"none\" or \"linear\" (the GGUF rope scalings jmlc computes), found \"" + type + "\"");
        };
        TensorView freqs = tensors.get(Llama3RopeFactors.TENSOR);
        if (freqs == null) return s;
        if (!(s instanceof RopeSpec.Scaling.None))
            throw new ModelFormatException(file, "both " + p + "rope.scaling.type \"" + type + "\" and a " + Llama3RopeFactors.TENSOR + " tensor: expected one rope scaling");
        if (freqs.rank() != 1) throw new ModelFormatException(file, "tensor " + Llama3RopeFactors.TENSOR + ": expected 1 dimension, found shape " + TensorView.shapeString(freqs.shape()));
        if (freqs.numel() != headDim / 2)
            throw new ModelFormatException(file, "tensor " + Llama3RopeFactors.TENSOR + " has " + freqs.numel() + " values, expected head_dim/2 = " + headDim / 2);
        float[] divisors = new float[headDim / 2];
        for (int i = 0; i < divisors.length; i++) divisors[i] = freqs.getFloat(i);
        return Llama3RopeFactors.fit(file, divisors, theta, headDim);
    }

    /** Typed metadata lookups whose errors name the file, the key, and what was expected and found. */
    private record Keys(Path file, Map<String, Object> md) {
        Object get(String key, String expected) {
            Object v = md.get(key);
            if (v == null) throw new ModelFormatException(file, "missing key '" + key + "' (expected " + expected + ")");
            return v;
        }

        String string(String key) {
            Object v = get(key, "a string");
            if (!(v instanceof String s)) throw wrong(key, "a string", v);
            return s;
        }

        int positiveInt(String key) {
            Object v = get(key, "a positive integer");
            if (!(v instanceof Long l) || l <= 0 || l > Integer.MAX_VALUE) throw wrong(key, "a positive integer", v);
            return (int) (long) l;
        }

        double positiveNumber(String key) {
            Object v = get(key, "a positive number");
            double d = v instanceof Double x ? x : v instanceof Long l ? l : Double.NaN;
            if (!(d > 0) || Double.isInfinite(d)) throw wrong(key, "a positive number", v);
            return d;
        }

        private ModelFormatException wrong(String key, String expected, Object found) {
            String f = found instanceof List<?> l ? "an array of " + l.size() + " values" : found instanceof String s ? "\"" + s + "\"" : String.valueOf(found);
            return new ModelFormatException(file, "key '" + key + "': expected " + expected + ", found " + f);
        }
    }
}
