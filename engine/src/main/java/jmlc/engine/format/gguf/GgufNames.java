package jmlc.engine.format.gguf;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GGUF tensor names (llama.cpp's gguf-py constants, {@code MODEL_TENSOR} names) and their
 * Hugging Face counterparts, for the Llama family:
 * <pre>
 * token_embd                 model.embed_tokens
 * output_norm                model.norm
 * output                     lm_head (absent: tied to token_embd)
 * blk.N.attn_norm            model.layers.N.input_layernorm
 * blk.N.attn_q|k|v|output    model.layers.N.self_attn.q_proj|k_proj|v_proj|o_proj
 * blk.N.ffn_norm             model.layers.N.post_attention_layernorm
 * blk.N.ffn_gate|up|down     model.layers.N.mlp.gate_proj|up_proj|down_proj
 * </pre>
 * each with its {@code .weight} or {@code .bias} suffix.
 */
public final class GgufNames {
    private GgufNames() {}

    private record Pair(String gguf, String hf) {}

    private static final List<Pair> GLOBAL = List.of(
            new Pair("token_embd", "model.embed_tokens"),
            new Pair("output_norm", "model.norm"),
            new Pair("output", "lm_head"));

    private static final List<Pair> LAYER = List.of(
            new Pair("attn_norm", "input_layernorm"),
            new Pair("attn_q", "self_attn.q_proj"),
            new Pair("attn_k", "self_attn.k_proj"),
            new Pair("attn_v", "self_attn.v_proj"),
            new Pair("attn_output", "self_attn.o_proj"),
            new Pair("ffn_norm", "post_attention_layernorm"),
            new Pair("ffn_gate", "mlp.gate_proj"),
            new Pair("ffn_up", "mlp.up_proj"),
            new Pair("ffn_down", "mlp.down_proj"));

    private static final Pattern GGUF_LAYER = Pattern.compile("blk\\.(\\d+)\\.([a-z_]+)\\.(weight|bias)");
    private static final Pattern HF_LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.([a-z_.]+)\\.(weight|bias)");
    private static final Pattern GLOBAL_NAME = Pattern.compile("([a-z_.]+)\\.(weight|bias)");

    /** The Hugging Face name of a GGUF tensor, if it has one. */
    public static Optional<String> toHf(String gguf) {
        Matcher m = GGUF_LAYER.matcher(gguf);
        if (m.matches()) {
            for (Pair p : LAYER) if (p.gguf.equals(m.group(2))) return Optional.of("model.layers." + m.group(1) + "." + p.hf + "." + m.group(3));
            return Optional.empty();
        }
        m = GLOBAL_NAME.matcher(gguf);
        if (m.matches()) for (Pair p : GLOBAL) if (p.gguf.equals(m.group(1))) return Optional.of(p.hf + "." + m.group(2));
        return Optional.empty();
    }

    /** The GGUF name of a Hugging Face tensor, if it has one. */
    public static Optional<String> toGguf(String hf) {
        Matcher m = HF_LAYER.matcher(hf);
        if (m.matches()) {
            for (Pair p : LAYER) if (p.hf.equals(m.group(2))) return Optional.of("blk." + m.group(1) + "." + p.gguf + "." + m.group(3));
            return Optional.empty();
        }
        m = GLOBAL_NAME.matcher(hf);
        if (m.matches()) for (Pair p : GLOBAL) if (p.hf.equals(m.group(1))) return Optional.of(p.gguf + "." + m.group(2));
        return Optional.empty();
    }
}
