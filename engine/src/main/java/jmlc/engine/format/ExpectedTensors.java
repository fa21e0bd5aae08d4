package jmlc.engine.format;

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

    /**
     * Throws a {@link ModelFormatException} for the first tensor of {@code c} that {@code ck} lacks
     * or holds with another shape. Extra tensors are allowed (old Llama checkpoints carry
     * {@code rotary_emb.inv_freq}; tied models may still carry {@code lm_head.weight}).
     */
    public static void check(Checkpoint ck, ModelConfig c) {
        for (var e : of(c).entrySet()) {
            String name = e.getKey();
            long[] want = e.getValue();
            TensorView t = ck.tensors().get(name);
            String alias = ck.fileName(name).equals(name) ? "" : " (" + ck.fileName(name) + ")";
            if (t == null)
                throw new ModelFormatException(ck.path(), "missing tensor " + name + alias + ": the model needs it with shape "
                        + TensorView.shapeString(want) + " (" + summary(c) + ")");
            if (!java.util.Arrays.equals(t.shape(), want))
                throw new ModelFormatException(t.file(), "tensor " + name + alias + " has shape " + TensorView.shapeString(t.shape())
                        + ", expected " + TensorView.shapeString(want) + " from the config (" + summary(c) + ")");
        }
    }

    private static String summary(ModelConfig c) {
        return "vocab_size=" + c.vocabSize() + ", hidden_size=" + c.hiddenSize() + ", intermediate_size=" + c.intermediateSize()
                + ", heads=" + c.numHeads() + ", kv_heads=" + c.numKvHeads() + ", head_dim=" + c.headDim() + ", layers=" + c.numLayers();
    }
}
