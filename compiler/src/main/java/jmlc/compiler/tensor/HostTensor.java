package jmlc.compiler.tensor;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.quant.Half;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A weight in host memory, in the storage format its param's {@link TensorType} names: what
 * loaders produce, what the CPU runtime and the reference interpreter read and GPU runtimes upload.
 * Segments are little-endian and may be memory-mapped file regions.
 */
public sealed interface HostTensor {

    long[] shape();

    /** Total bytes stored (values and scales). */
    long byteSize();

    /** Element {@code i} (row-major) as a float: the slow, obviously-correct accessor for references and tests. */
    float get(long i);

    /** Row {@code r} of a 2-D tensor (the whole tensor for 1-D) as floats. */
    default void row(long r, float[] out) {
        long cols = shape()[shape().length - 1];
        for (int c = 0; c < cols; c++) out[c] = get(r * cols + c);
    }

    default long numel() {
        long n = 1;
        for (long d : shape()) n *= d;
        return n;
    }

    /** Dense F32, F16 or BF16 values, row-major. */
    record Dense(DType dtype, long[] shape, MemorySegment data) implements HostTensor {
        public Dense {
            if (!dtype.isFloat()) throw new IllegalArgumentException("dense weights are f32, f16 or bf16, not " + dtype);
            long need = Arrays.stream(shape).reduce(1, (a, b) -> a * b) * (dtype.bits() / 8);
            if (data.byteSize() < need)
                throw new IllegalArgumentException("a " + dtype + Arrays.toString(shape) + " tensor needs " + need + " bytes, found " + data.byteSize());
        }

        public long byteSize() {
            return numel() * (dtype.bits() / 8);
        }

        public float get(long i) {
            return switch (dtype) {
                case F32 -> data.getAtIndex(GroupQuantizer.F32, i);
                case F16 -> Half.toFloat(data.getAtIndex(GroupQuantizer.F16, i));
                case BF16 -> Half.bf16ToFloat(data.getAtIndex(GroupQuantizer.F16, i));
                default -> throw new AssertionError(dtype);
            };
        }
    }

    /** Group-quantized {@code [rows, cols]} weight (layout in {@link QuantScheme}). */
    record Quantized(QuantScheme scheme, long rows, long cols, MemorySegment data, MemorySegment scales) implements HostTensor {
        public Quantized {
            if (cols % scheme.groupSize() != 0) throw new IllegalArgumentException(cols + " columns do not split into groups of " + scheme.groupSize());
            if (data.byteSize() < scheme.dataBytes(rows, cols) || scales.byteSize() < scheme.scaleBytes(rows, cols))
                throw new IllegalArgumentException("a " + scheme + "[" + rows + ", " + cols + "] weight needs " + scheme.dataBytes(rows, cols)
                        + " + " + scheme.scaleBytes(rows, cols) + " bytes, found " + data.byteSize() + " + " + scales.byteSize());
        }

        public long[] shape() {
            return new long[] {rows, cols};
        }

        public long byteSize() {
            return scheme.dataBytes(rows, cols) + scheme.scaleBytes(rows, cols);
        }

        public float get(long i) {
            long group = i / scheme.groupSize();
            return (GroupQuantizer.quantAt(scheme, data, i) - scheme.zero()) * GroupQuantizer.scale(scheme, scales, group);
        }
    }

    /** Whether this tensor's storage is what {@code type} asks for (same dtype, scheme and shape). */
    default boolean matches(TensorType type) {
        long[] want = type.shape().dims().stream().mapToLong(d -> d.size()).toArray();
        if (!Arrays.equals(want, shape())) return false;
        return switch (this) {
            case Dense d -> d.dtype() == type.dtype();
            case Quantized q -> q.scheme().equals(type.quant());
        };
    }
}
