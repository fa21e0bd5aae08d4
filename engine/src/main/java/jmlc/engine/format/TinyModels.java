package jmlc.engine.format;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.tensor.FloatTensor;
import jmlc.engine.format.tensor.FloatWeights;
import jmlc.engine.format.tensor.TensorView;
import jmlc.engine.format.tensor.ExpectedTensors;

/**
 * Small models with random weights, for tests and demos: the same seed gives the same weights.
 * Write them with {@link jmlc.engine.format.hf.HfModelWriter} and
 * {@link jmlc.engine.format.gguf.GgufModelWriter} to get files of both formats describing the
 * same model.
 */
public final class TinyModels {
    private TinyModels() {}

    /**
     * A tiny config of {@code arch}: vocab 256, hidden 64, MLP 128, 2 layers, 4 heads of 16 with 2
     * kv heads (grouped-query attention), context 128, separate LM head. Hugging Face layout (HALF rope).
     */
    public static ModelConfig config(Architecture arch) {
        return new ModelConfig(arch, 256, 64, 128, 2, 4, 2, 16, 1e-5, arch == Architecture.QWEN2 ? 1_000_000 : 10_000,
                new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 128, false, arch.attentionBias());
    }

    /**
     * Random weights for {@code c}: matrices and embeddings ~ N(0, 1/cols) (activations keep
     * their scale layer to layer), norm weights ~ 1 + N(0, 0.1²), biases ~ N(0, 0.1²).
     */
    public static FloatWeights random(ModelConfig c, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        for (var e : ExpectedTensors.of(c).entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            float[] v = new float[Math.toIntExact(TensorView.numel(shape))];
            boolean norm = name.endsWith("norm.weight"), bias = name.endsWith(".bias");
            double std = norm || bias ? 0.1 : 1 / Math.sqrt(shape[shape.length - 1]);
            for (int i = 0; i < v.length; i++) v[i] = (float) ((norm ? 1 : 0) + std * rng.nextGaussian());
            m.put(name, new FloatTensor(name, shape, v));
        }
        return new FloatWeights(c, m);
    }
}
