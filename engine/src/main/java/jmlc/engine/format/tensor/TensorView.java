package jmlc.engine.format.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a checkpoint, viewed in place: {@code data} is a slice of the memory-mapped file,
 * never a heap copy.
 *
 * @param name  Hugging Face name ({@code model.layers.0.self_attn.q_proj.weight}); tensors with no
 *              Hugging Face counterpart keep their file's name
 * @param dtype storage type of the elements
 * @param shape row-major, Hugging Face order: a Linear weight is {@code [out_features, in_features]};
 *              the last dimension varies fastest (and holds the quantization blocks)
 * @param data  exactly {@code dtype.byteSize(numel)} bytes, little-endian; valid until the
 *              checkpoint is closed
 * @param file  the file the bytes live in (for error messages)
 */
public record TensorView(String name, TensorDType dtype, long[] shape, MemorySegment data, Path file) {

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public TensorView {
        shape = shape.clone();
        long n = numel(shape);
        if (n < 0) throw new IllegalArgumentException("tensor " + name + " in " + file + ": invalid shape " + shapeString(shape));
        if (dtype.isQuantized() && (shape.length == 0 || shape[shape.length - 1] % dtype.blockSize() != 0))
            throw new IllegalArgumentException("tensor " + name + " in " + file + ": " + dtype + " rows must be a multiple of "
                    + dtype.blockSize() + " values, shape is " + shapeString(shape));
        if (data.byteSize() != dtype.byteSize(n))
            throw new IllegalArgumentException("tensor " + name + " in " + file + ": " + shapeString(shape) + " " + dtype
                    + " takes " + dtype.byteSize(n) + " bytes, view has " + data.byteSize());
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}; negative {@code i} counts from the end. */
    public long dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public long numel() {
        return numel(shape);
    }

    /**
     * Element {@code i} (row-major index) as a float: exact for F32, F16 and BF16, dequantized
     * ({@code q·d}) for Q4_0 and Q8_0. For reference code and tests: one element at a time.
     */
    public float getFloat(long i) {
        if (i < 0 || i >= numel()) throw new IndexOutOfBoundsException("element " + i + " of " + name + " " + shapeString(shape));
        return switch (dtype) {
            case F32 -> data.get(F32_LE, i * 4);
            case F16 -> Float.float16ToFloat(data.get(I16_LE, i * 2));
            case BF16 -> Float.intBitsToFloat(data.get(I16_LE, i * 2) << 16);
            case Q4_0 -> {
                long block = i / 32 * 18;
                int j = (int) (i % 32);
                float d = Float.float16ToFloat(data.get(I16_LE, block));
                int packed = data.get(ValueLayout.JAVA_BYTE, block + 2 + (j & 15)) & 0xFF;
                int q = j < 16 ? packed & 0xF : packed >>> 4;
                yield (q - 8) * d;
            }
            case Q8_0 -> {
                long block = i / 32 * 34;
                float d = Float.float16ToFloat(data.get(I16_LE, block));
                yield data.get(ValueLayout.JAVA_BYTE, block + 2 + i % 32) * d;
            }
        };
    }

    /** Product of the dimensions, or -1 if a dimension is negative or the product overflows a long. */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) return -1;
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        return n;
    }

    public static String shapeString(long[] shape) {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorView t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && data.equals(t.data) && file.equals(t.file);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + shapeString(shape) + " (" + file.getFileName() + ")";
    }
}
