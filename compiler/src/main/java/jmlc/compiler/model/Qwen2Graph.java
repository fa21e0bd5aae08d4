package jmlc.compiler.model;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Value;

/**
 * Qwen2 and Qwen2.5 ({@code Qwen2ForCausalLM}, GGUF {@code qwen2}): Llama's layout with biases on
 * the q, k and v projections (never on o), rope_theta 1e6 and, in the small sizes, the LM head
 * tied to the embedding. Its optional sliding window ({@code use_sliding_window}) caps the context
 * when the config is read, as for Mistral.
 */
final class Qwen2Graph {
    private Qwen2Graph() {}

    private static final DecoderBlocks.AttentionBiases QKV_BIASES = new DecoderBlocks.AttentionBiases(true, false);

    static Graph build(ModelConfig c, ModelGraph.Options o) {
        if (!c.attentionBias()) throw new IllegalArgumentException("Qwen2's q, k and v projections have biases; the config says they do not");
        DecoderBlocks blocks = new DecoderBlocks(c, o);
        Value x = blocks.embed();
        for (int l = 0; l < c.numLayers(); l++) {
            x = blocks.attention(l, x, QKV_BIASES);
            x = blocks.swiGlu(l, x);
        }
        return blocks.logits(x);
    }
}
