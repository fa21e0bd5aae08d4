package jmlc.compiler.ir;

/**
 * Element types of tensors in the graph.
 *
 * <p>{@link #Q4} and {@link #Q8} are group-quantized weights: the logical shape is the dense
 * shape {@code [rows, cols]}, the storage is described by a {@link QuantScheme} (packed values
 * plus one scale per group of {@code groupSize} along {@code cols}).
 */
public enum DType {
    F32(32, "f32"),
    F16(16, "f16"),
    BF16(16, "bf16"),
    I32(32, "i32"),
    U32(32, "u32"),
    I8(8, "i8"),
    /** 4-bit group-quantized weight (see {@link QuantScheme}). */
    Q4(4, "q4"),
    /** 8-bit group-quantized weight (see {@link QuantScheme}). */
    Q8(8, "q8");

    private final int bits;
    private final String shortName;

    DType(int bits, String shortName) {
        this.bits = bits;
        this.shortName = shortName;
    }

    /** Bits per element of the stored values (scales of quantized types not included). */
    public int bits() {
        return bits;
    }

    public boolean isQuantized() {
        return this == Q4 || this == Q8;
    }

    public boolean isFloat() {
        return this == F32 || this == F16 || this == BF16;
    }

    public String shortName() {
        return shortName;
    }

    @Override
    public String toString() {
        return shortName;
    }
}
