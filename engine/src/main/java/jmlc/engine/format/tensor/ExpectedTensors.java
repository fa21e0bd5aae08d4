package jmlc.engine.format.tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Dim;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Value;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.model.ModelConfig;

/**
 * The tensors a model needs and their shapes, read off the graph jmlc builds for its config
 * ({@link ModelGraph}): so the loader checks exactly what the compiler will read.
 */
public final class ExpectedTensors {
    private ExpectedTensors() {}

    /** Hugging Face name to shape, in the graph's param order. */
    public static Map<String, long[]> of(ModelConfig c) {
        Graph g = ModelGraph.build(c, new ModelGraph.Options(1, DType.F32, false));
        Map<String, long[]> m = new LinkedHashMap<>();
        for (Value p : g.params()) {
            var sources = g.weightSource(p).tensors();
            if (sources.size() != 1)
                throw new IllegalStateException("param " + p.name() + " is made of " + sources + "; the checkpoint check knows single-tensor params only");
            m.put(sources.getFirst(), p.type().shape().dims().stream().mapToLong(Dim::size).toArray());
        }
        return Collections.unmodifiableMap(m);
    }

    /** The config fields that decide the tensor shapes, for error messages. */
    public static String summary(ModelConfig c) {
        return "vocab_size=" + c.vocabSize() + ", hidden_size=" + c.hiddenSize() + ", intermediate_size=" + c.intermediateSize()
                + ", heads=" + c.numHeads() + ", kv_heads=" + c.numKvHeads() + ", head_dim=" + c.headDim() + ", layers=" + c.numLayers();
    }
}
