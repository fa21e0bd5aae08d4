package jmlc.engine.format.gguf;

import jmlc.engine.format.tensor.TensorDType;

/**
 * ggml tensor types by id ({@code enum ggml_type} in ggml.h), so errors can name the type of a
 * tensor jmlc cannot read. Only those with a {@link #dtype()} are loaded.
 */
public enum GgmlType {
    F32(0, TensorDType.F32),
    F16(1, TensorDType.F16),
    Q4_0(2, TensorDType.Q4_0),
    Q4_1(3, null),
    Q5_0(6, null),
    Q5_1(7, null),
    Q8_0(8, TensorDType.Q8_0),
    Q8_1(9, null),
    Q2_K(10, null),
    Q3_K(11, null),
    Q4_K(12, null),
    Q5_K(13, null),
    Q6_K(14, null),
    Q8_K(15, null),
    IQ2_XXS(16, null),
    IQ2_XS(17, null),
    IQ3_XXS(18, null),
    IQ1_S(19, null),
    IQ4_NL(20, null),
    IQ3_S(21, null),
    IQ2_S(22, null),
    IQ4_XS(23, null),
    I8(24, null),
    I16(25, null),
    I32(26, null),
    I64(27, null),
    F64(28, null),
    IQ1_M(29, null),
    BF16(30, TensorDType.BF16),
    TQ1_0(34, null),
    TQ2_0(35, null),
    MXFP4(39, null);

    private final int id;
    private final TensorDType dtype;

    GgmlType(int id, TensorDType dtype) {
        this.id = id;
        this.dtype = dtype;
    }

    public int id() {
        return id;
    }

    /** The storage type jmlc reads this as, or null if jmlc cannot read it. */
    public TensorDType dtype() {
        return dtype;
    }

    /** The type with this id, or null for ids ggml does not define (or no longer does). */
    public static GgmlType of(int id) {
        for (GgmlType t : values()) if (t.id == id) return t;
        return null;
    }

    public static GgmlType of(TensorDType d) {
        for (GgmlType t : values()) if (t.dtype == d) return t;
        throw new IllegalArgumentException("no ggml type for " + d);
    }

    /** "F32, F16, BF16, Q4_0, Q8_0": the types jmlc reads, for messages. */
    public static String supported() {
        StringBuilder sb = new StringBuilder();
        for (GgmlType t : values()) if (t.dtype != null) sb.append(sb.isEmpty() ? "" : ", ").append(t.name());
        return sb.toString();
    }
}
