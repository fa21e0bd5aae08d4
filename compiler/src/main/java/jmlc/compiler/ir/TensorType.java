package jmlc.compiler.ir;

/**
 * Type of a value in the graph: element type and shape, and for quantized weights the scheme
 * that says how they are stored.
 */
public record TensorType(DType dtype, Shape shape, QuantScheme quant) {

    public TensorType {
        if (dtype.isQuantized() != (quant != null))
            throw new IllegalArgumentException("a " + dtype + " tensor " + (quant == null ? "needs" : "takes no") + " quantization scheme");
        if (quant != null && quant.dtype() != dtype)
            throw new IllegalArgumentException("scheme " + quant + " does not store " + dtype);
    }

    public TensorType(DType dtype, Shape shape) {
        this(dtype, shape, null);
    }

    public static TensorType of(DType dtype, Dim... dims) {
        return new TensorType(dtype, Shape.of(dims));
    }

    public static TensorType of(DType dtype, long... sizes) {
        return new TensorType(dtype, Shape.of(sizes));
    }

    /** A rank-0 tensor (the step's start position). */
    public static TensorType scalar(DType dtype) {
        return new TensorType(dtype, Shape.SCALAR);
    }

    public static TensorType quantized(QuantScheme q, long rows, long cols) {
        return new TensorType(q.dtype(), Shape.of(rows, cols), q);
    }

    public TensorType withDtype(DType d) {
        return new TensorType(d, shape);
    }

    public TensorType withShape(Shape s) {
        return new TensorType(dtype, s, quant);
    }

    @Override
    public String toString() {
        return (quant != null ? quant.toString() : dtype.shortName()) + shape;
    }
}
