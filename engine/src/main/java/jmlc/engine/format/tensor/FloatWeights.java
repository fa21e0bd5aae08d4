package jmlc.engine.format.tensor;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.tensor.ExpectedTensors;

/**
 * A whole model on the heap, in Hugging Face layout, for writing test models: exactly the
 * tensors {@link ExpectedTensors} lists for the config, with those shapes, in that order.
 * The config's rope style must be HALF: q/k rows are as Hugging Face stores them.
 */
public record FloatWeights(ModelConfig config, Map<String, FloatTensor> tensors) {

    public FloatWeights {
        if (config.ropeStyle() != RopeSpec.Style.HALF)
            throw new IllegalArgumentException("model weights are kept in Hugging Face layout, so the config's rope style must be HALF, not " + config.ropeStyle());
        Map<String, long[]> expected = ExpectedTensors.of(config);
        Map<String, FloatTensor> ordered = new LinkedHashMap<>();
        for (var e : expected.entrySet()) {
            FloatTensor t = tensors.get(e.getKey());
            if (t == null) throw new IllegalArgumentException("missing tensor " + e.getKey() + " " + Arrays.toString(e.getValue()));
            if (!t.name().equals(e.getKey())) throw new IllegalArgumentException("tensor under key " + e.getKey() + " is named " + t.name());
            if (!Arrays.equals(t.shape(), e.getValue()))
                throw new IllegalArgumentException("tensor " + e.getKey() + " has shape " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(e.getValue()));
            ordered.put(e.getKey(), t);
        }
        for (String k : tensors.keySet()) if (!expected.containsKey(k)) throw new IllegalArgumentException("tensor " + k + " is not part of a " + config.architecture() + " model with this config");
        tensors = Collections.unmodifiableMap(ordered);
    }

    public FloatTensor tensor(String name) {
        FloatTensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("no tensor " + name);
        return t;
    }
}
