package jmlc.compiler.ir;

/**
 * How a group-quantized weight of logical shape {@code [rows, cols]} is stored.
 *
 * <p>Values are quantized in groups of {@code groupSize} consecutive elements along {@code cols}
 * (the input dimension of a matmul weight), one scale per group: {@code w ≈ (q − zero) · scale}.
 *
 * <ul>
 *   <li>4-bit ({@code bits == 4}): {@code data} is {@code u32[rows, cols/8]}; element {@code j} of a
 *       word sits at bits {@code 4j..4j+3} (MLC's q4f16_1 packing).
 *   <li>8-bit ({@code bits == 8}): {@code data} is {@code i8[rows, cols]} holding {@code q − zero}
 *       as a signed byte, so {@code zero} is 0.
 *   <li>{@code scales} is {@code scaleType[rows, cols/groupSize]}.
 * </ul>
 *
 * <p>MLC's q4f16_1 is {@code (4, 32, F16, 7)}; GGUF Q4_0 is {@code (4, 32, F16, 8)} after its
 * nibbles are reordered into this packing; GGUF Q8_0 and jmlc's q8f16 are {@code (8, 32, F16, 0)}.
 */
public record QuantScheme(int bits, int groupSize, DType scaleType, int zero) {

    public QuantScheme {
        if (bits != 4 && bits != 8) throw new IllegalArgumentException("quantized weights have 4 or 8 bits, not " + bits);
        if (groupSize <= 0 || groupSize % 8 != 0) throw new IllegalArgumentException("group size must be a positive multiple of 8, not " + groupSize);
        if (scaleType != DType.F16 && scaleType != DType.F32) throw new IllegalArgumentException("scales are f16 or f32, not " + scaleType);
    }

    public static final QuantScheme Q4F16_1 = new QuantScheme(4, 32, DType.F16, 7);
    public static final QuantScheme Q4F32_1 = new QuantScheme(4, 32, DType.F32, 7);
    public static final QuantScheme Q8F16 = new QuantScheme(8, 32, DType.F16, 0);
    /** GGUF Q4_0 repacked: zero point 8 instead of 7. */
    public static final QuantScheme GGUF_Q4_0 = new QuantScheme(4, 32, DType.F16, 8);

    public DType dtype() {
        return bits == 4 ? DType.Q4 : DType.Q8;
    }

    /** Bytes of packed values for a {@code rows x cols} weight. */
    public long dataBytes(long rows, long cols) {
        return rows * cols * bits / 8;
    }

    /** Bytes of scales for a {@code rows x cols} weight. */
    public long scaleBytes(long rows, long cols) {
        return rows * (cols / groupSize) * (scaleType == DType.F16 ? 2 : 4);
    }

    @Override
    public String toString() {
        return "q" + bits + scaleType.shortName() + "/g" + groupSize + "/z" + zero;
    }
}
