package jmlc.engine.model;

import jmlc.compiler.ir.Value;
import jmlc.compiler.tensor.HostTensor;

/**
 * The stored weights of a compiled model's params, in the formats the params' types name.
 * Loaded from a checkpoint ({@link CheckpointWeights}) or made up ({@link SyntheticWeights}).
 */
public interface ModelWeights extends AutoCloseable {

    /** The tensor of {@code param} (a param of the compiled graph these weights were made for). */
    HostTensor get(Value param);

    /**
     * True for random weights made for benchmarks: a GPU backend may then generate them on the
     * device from {@link #seed()} instead of copying them from the host.
     */
    boolean synthetic();

    long seed();

    /** Bytes of all params (what a decode step reads, but for the embedding table). */
    long totalBytes();

    @Override
    void close();

    /** Bytes of all params of {@code g} in their stored formats. */
    static long bytesOf(jmlc.compiler.ir.Graph g) {
        long b = 0;
        for (Value p : g.params()) b += bytesOf(p.type());
        return b;
    }

    /** Bytes of a tensor of type {@code t} in its stored format (quantized: data and scales). */
    static long bytesOf(jmlc.compiler.ir.TensorType t) {
        if (!t.dtype().isQuantized()) return t.shape().numel() * (t.dtype().bits() / 8);
        long rows = t.shape().dim(0).size(), cols = t.shape().dim(1).size();
        return t.quant().dataBytes(rows, cols) + t.quant().scaleBytes(rows, cols);
    }
}
