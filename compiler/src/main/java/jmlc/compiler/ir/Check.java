package jmlc.compiler.ir;

import java.util.List;

/** Shape and type checks shared by {@link Op#infer}; messages name the op and the operand. */
final class Check {
    private Check() {}

    static void arity(Op op, List<TensorType> in, int n) {
        if (in.size() != n) throw new IllegalArgumentException(op.name() + " takes " + n + " inputs, got " + in.size());
    }

    static void rank(Op op, TensorType t, int rank, String what) {
        if (t.shape().rank() != rank)
            throw new IllegalArgumentException(op.name() + ": " + what + " must have rank " + rank + ", found " + t);
    }

    static void dtype(Op op, TensorType t, DType d, String what) {
        if (t.dtype() != d) throw new IllegalArgumentException(op.name() + ": " + what + " must be " + d + ", found " + t);
    }

    /** An activation an op writes is stored as f32 or f16. */
    static void activation(String op, DType out) {
        if (out != DType.F32 && out != DType.F16) throw new IllegalArgumentException(op + " writes f32 or f16, not " + out);
    }

    static void cols(Op op, TensorType t, long cols, String what) {
        if (t.shape().rank() != 2 || !t.shape().dim(1).isFixed() || t.shape().cols() != cols)
            throw new IllegalArgumentException(op.name() + ": " + what + " must be [seq, " + cols + "], found " + t);
    }

    static List<TensorType> sameShape(Op op, List<TensorType> in) {
        arity(op, in, 2);
        if (!in.get(0).shape().equals(in.get(1).shape()))
            throw new IllegalArgumentException(op.name() + ": operands differ in shape: " + in.get(0) + " and " + in.get(1));
        return List.of(in.get(0));
    }

    static List<TensorType> matmul(Op op, List<TensorType> in, boolean quantized) {
        if (in.size() != 2 && in.size() != 3) throw new IllegalArgumentException(op.name() + " takes x, w and an optional bias, got " + in.size() + " inputs");
        TensorType x = in.get(0), w = in.get(1);
        rank(op, w, 2, "weight");
        if (w.dtype().isQuantized() != quantized)
            throw new IllegalArgumentException(op.name() + ": weight must be " + (quantized ? "quantized" : "dense") + ", found " + w);
        long n = w.shape().dim(0).size(), k = w.shape().dim(1).size();
        cols(op, x, k, "x");
        if (in.size() == 3 && (in.get(2).shape().rank() != 1 || in.get(2).shape().dim(0).size() != n))
            throw new IllegalArgumentException(op.name() + ": bias must be [" + n + "], found " + in.get(2));
        return List.of(TensorType.of(DType.F32, x.shape().dim(0), Dim.of(n)));
    }
}
