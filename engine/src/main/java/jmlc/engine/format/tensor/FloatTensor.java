package jmlc.engine.format.tensor;

import java.util.Arrays;

/**
 * A small tensor on the heap, for writing test models: row-major values in Hugging Face order
 * ({@code [out_features, in_features]} for a Linear weight).
 */
public record FloatTensor(String name, long[] shape, float[] values) {

    public FloatTensor {
        shape = shape.clone();
        long n = TensorView.numel(shape);
        if (n != values.length)
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " holds " + n + " values, found " + values.length);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public FloatTensor withValues(float[] v) {
        return new FloatTensor(name, shape, v);
    }

    public FloatTensor withName(String n) {
        return new FloatTensor(n, shape, values);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FloatTensor t && name.equals(t.name) && Arrays.equals(shape, t.shape) && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
