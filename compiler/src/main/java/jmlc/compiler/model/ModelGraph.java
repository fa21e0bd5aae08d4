package jmlc.compiler.model;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;

/**
 * The graph of one step of a model, from the builder of its family: {@link LlamaGraph} (Llama 2/3,
 * TinyLlama), {@link MistralGraph}, {@link Qwen2Graph}. A new family is a new builder here and a
 * new {@link Architecture} constant; the passes, schedules and backends take any graph.
 */
public final class ModelGraph {
    private ModelGraph() {}

    /**
     * @param maxContext KV cache length in positions (at most the model's context window)
     * @param kvDtype    element type of the KV cache: F32, F16, or I8 (bytes with a scale per group, {@code Int8KvCache})
     * @param allLogits  return logits for every position (for {@code jmlc logits}); otherwise the last only
     */
    public record Options(int maxContext, DType kvDtype, boolean allLogits) {
        public Options {
            if (maxContext <= 0) throw new IllegalArgumentException("KV cache length must be positive, found " + maxContext);
            if (kvDtype != DType.F32 && kvDtype != DType.F16 && kvDtype != DType.I8)
                throw new IllegalArgumentException("KV cache is f32, f16 or i8, not " + kvDtype);
        }
    }

    /** Inputs {@code tokens [seq]} and {@code pos}; states {@code k_cache.l}, {@code v_cache.l}; output the logits. */
    public static Graph build(ModelConfig c, Options o) {
        if (o.maxContext() > c.maxPositions())
            throw new IllegalArgumentException("KV cache of " + o.maxContext() + " positions is longer than the model's context window (" + c.maxPositions() + ")");
        return switch (c.architecture()) {
            case LLAMA -> LlamaGraph.build(c, o);
            case MISTRAL -> MistralGraph.build(c, o);
            case QWEN2 -> Qwen2Graph.build(c, o);
        };
    }
}
