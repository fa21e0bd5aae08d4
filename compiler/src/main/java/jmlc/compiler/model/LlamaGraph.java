package jmlc.compiler.model;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Value;

/**
 * Llama 2 and 3, TinyLlama, Code Llama ({@code LlamaForCausalLM}, GGUF {@code llama}): a pre-norm
 * decoder with grouped-query attention and a SwiGLU MLP. {@code attention_bias: true} in config.json
 * (or {@code blk.N.attn_q.bias} in GGUF) gives all four attention projections, o included, a bias,
 * as transformers' LlamaAttention does; rope scaling (linear, llama3) lives in {@link ModelConfig#rope()}.
 */
final class LlamaGraph {
    private LlamaGraph() {}

    static Graph build(ModelConfig c, ModelGraph.Options o) {
        DecoderBlocks blocks = new DecoderBlocks(c, o);
        var biases = new DecoderBlocks.AttentionBiases(c.attentionBias(), c.attentionBias());
        Value x = blocks.embed();
        for (int l = 0; l < c.numLayers(); l++) {
            x = blocks.attention(l, x, biases);
            x = blocks.swiGlu(l, x);
        }
        return blocks.logits(x);
    }
}
