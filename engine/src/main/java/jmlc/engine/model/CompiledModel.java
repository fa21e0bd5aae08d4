package jmlc.engine.model;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;

import java.util.Set;

/**
 * A model's graph after the pass pipeline, for one quantization and cache size: what backends load.
 *
 * @param maxStepTokens the most tokens one step processes (prompts longer than this are fed in chunks)
 */
public record CompiledModel(ModelConfig config, QuantMode quant, ModelGraph.Options options, Pipeline.Result pipeline, int maxStepTokens) {

    /** Builds the model's graph and runs the standard pipeline, less the passes named in {@code disabledPasses}. */
    public static CompiledModel compile(ModelConfig config, QuantMode quant, int maxContext, boolean allLogits,
                                        Set<String> disabledPasses, int maxStepTokens) {
        return compile(config, quant, quant.kvCacheType(), maxContext, allLogits, disabledPasses, maxStepTokens);
    }

    /** {@link #compile(ModelConfig, QuantMode, int, boolean, Set, int)} with a KV cache of {@code kvCache} (f32, f16, i8). */
    public static CompiledModel compile(ModelConfig config, QuantMode quant, DType kvCache, int maxContext, boolean allLogits,
                                        Set<String> disabledPasses, int maxStepTokens) {
        int ctx = Math.min(maxContext, config.maxPositions());
        ModelGraph.Options opts = new ModelGraph.Options(ctx, kvCache, allLogits);
        Graph g = ModelGraph.build(config, opts);
        int step = Math.min(maxStepTokens, ctx);
        Pipeline.Result r = new Pipeline(Pipeline.standard(quant), disabledPasses, step).run(g);
        return new CompiledModel(config, quant, opts, r, step);
    }

    public Graph graph() {
        return pipeline.graph();
    }

    public int maxContext() {
        return options.maxContext();
    }
}
