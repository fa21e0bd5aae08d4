package jmlc.compiler.model;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Value;

/**
 * Mistral ({@code MistralForCausalLM}; llama.cpp writes its GGUF files as {@code llama}): Llama's layers
 * without biases, grouped-query attention, rope_theta from the config. Its sliding window
 * ({@code sliding_window}, 4096 in v0.1, none from v0.2) is honoured by capping the context to
 * the window when the config is read, so every cached position is inside it and this graph
 * attends to all of them.
 */
final class MistralGraph {
    private MistralGraph() {}

    static Graph build(ModelConfig c, ModelGraph.Options o) {
        if (c.attentionBias()) throw new IllegalArgumentException("Mistral's attention projections have no biases; the config says they do");
        DecoderBlocks blocks = new DecoderBlocks(c, o);
        Value x = blocks.embed();
        for (int l = 0; l < c.numLayers(); l++) {
            x = blocks.attention(l, x, DecoderBlocks.AttentionBiases.NONE);
            x = blocks.swiGlu(l, x);
        }
        return blocks.logits(x);
    }
}
