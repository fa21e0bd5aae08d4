package jmlc.compiler.kernel;

/**
 * Types of kernel IR values: a scalar, or a short vector of scalars used for wide memory
 * accesses ({@code u32x4} is one 16-byte load) and packed halves ({@code f16x2}).
 *
 * <p>{@code i8} is a signed byte in a buffer (an int8 KV cache): loaded, it is an i32 register
 * holding the sign-extended byte; stored, an i32 keeps its low 8 bits. Only loads, stores and
 * casts take it; arithmetic is on i32.
 */
public record KType(Scalar scalar, int lanes) {

    public enum Scalar {
        BOOL(1), I32(4), U32(4), F32(4), F16(2), I8(1);

        public final int bytes;

        Scalar(int bytes) {
            this.bytes = bytes;
        }
    }

    public KType {
        if (lanes != 1 && lanes != 2 && lanes != 4) throw new IllegalArgumentException("vectors have 1, 2 or 4 lanes, not " + lanes);
        if (scalar == Scalar.I8 && lanes != 1) throw new IllegalArgumentException("i8 is a scalar: bytes travel in vectors as packed u32 words");
    }

    public static final KType BOOL = new KType(Scalar.BOOL, 1);
    public static final KType I32 = new KType(Scalar.I32, 1);
    public static final KType U32 = new KType(Scalar.U32, 1);
    public static final KType F32 = new KType(Scalar.F32, 1);
    public static final KType F16 = new KType(Scalar.F16, 1);
    public static final KType I8 = new KType(Scalar.I8, 1);
    public static final KType U32X4 = new KType(Scalar.U32, 4);
    public static final KType U32X2 = new KType(Scalar.U32, 2);
    public static final KType F32X4 = new KType(Scalar.F32, 4);
    public static final KType F32X2 = new KType(Scalar.F32, 2);
    public static final KType F16X2 = new KType(Scalar.F16, 2);
    public static final KType F16X4 = new KType(Scalar.F16, 4);

    public boolean isVector() {
        return lanes > 1;
    }

    public boolean isFloat() {
        return scalar == Scalar.F32 || scalar == Scalar.F16;
    }

    public boolean isInt() {
        return scalar == Scalar.I32 || scalar == Scalar.U32 || scalar == Scalar.I8;
    }

    public KType element() {
        return new KType(scalar, 1);
    }

    public int bytes() {
        return scalar.bytes * lanes;
    }

    @Override
    public String toString() {
        return scalar.name().toLowerCase() + (lanes > 1 ? "x" + lanes : "");
    }
}
