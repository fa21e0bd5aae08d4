package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.quant.Half;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A weight matrix {@code [rows, cols]} as the kernels read it: off-heap, little-endian, row-major,
 * {@code cols} the input dimension ({@code y[n] = Σ_k x[k] · w[n, k]}). Pool threads read the
 * segments, so they must not be confined to one thread (global, shared, auto or mapped arenas).
 */
public sealed interface Weight permits Weight.Dense, Weight.Quantized {

    int rows();

    int cols();

    /** Bytes one full pass over the weight reads (values plus scales). */
    long bytes();

    /** F32, F16 or BF16 values {@code [rows, cols]}. */
    record Dense(MemorySegment data, DType dtype, int rows, int cols) implements Weight {
        public Dense {
            if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16)
                throw new IllegalArgumentException("a dense weight is f32, f16 or bf16, not " + dtype);
            checkShape(rows, cols);
            long need = (long) rows * cols * (dtype.bits() / 8);
            if (data.byteSize() < need)
                throw new IllegalArgumentException("dense " + dtype + " weight [" + rows + ", " + cols + "] needs " + need + " bytes, segment has " + data.byteSize());
        }

        public long bytes() {
            return (long) rows * cols * (dtype.bits() / 8);
        }

        /** Element {@code (r, c)} as a float. */
        public float get(int r, int c) {
            long i = (long) r * cols + c;
            return switch (dtype) {
                case F32 -> data.getAtIndex(GroupQuantizer.F32, i);
                case F16 -> Half.toFloat(data.getAtIndex(GroupQuantizer.F16, i));
                case BF16 -> Half.bf16ToFloat(data.getAtIndex(GroupQuantizer.F16, i));
                default -> throw new AssertionError(dtype);
            };
        }
    }

    /**
     * Group-quantized per {@link QuantScheme}: {@code data} u32[rows, cols/8] (4-bit) or
     * i8[rows, cols] (8-bit), {@code scales} f16/f32[rows, cols/groupSize].
     */
    record Quantized(MemorySegment data, MemorySegment scales, QuantScheme scheme, int rows, int cols) implements Weight {
        public Quantized {
            checkShape(rows, cols);
            if (cols % scheme.groupSize() != 0)
                throw new IllegalArgumentException("quantized weight [" + rows + ", " + cols + "]: " + cols + " columns do not split into groups of " + scheme.groupSize() + " (" + scheme + ")");
            if (data.byteSize() < scheme.dataBytes(rows, cols))
                throw new IllegalArgumentException(scheme + " weight [" + rows + ", " + cols + "] needs " + scheme.dataBytes(rows, cols) + " bytes of data, segment has " + data.byteSize());
            if (scales.byteSize() < scheme.scaleBytes(rows, cols))
                throw new IllegalArgumentException(scheme + " weight [" + rows + ", " + cols + "] needs " + scheme.scaleBytes(rows, cols) + " bytes of scales, segment has " + scales.byteSize());
        }

        public long bytes() {
            return scheme.dataBytes(rows, cols) + scheme.scaleBytes(rows, cols);
        }

        /** Groups per row. */
        public int groups() {
            return cols / scheme.groupSize();
        }
    }

    /** Stores {@code w[rows·cols]} (row-major) as a dense weight of {@code dtype} in {@code arena}. */
    public static Dense dense(Arena arena, DType dtype, float[] w, int rows, int cols) {
        checkShape(rows, cols);
        long n = (long) rows * cols;
        MemorySegment seg = arena.allocate(n * (dtype.bits() / 8), 64);
        for (long i = 0; i < n; i++) {
            float v = w[(int) i];
            switch (dtype) {
                case F32 -> seg.setAtIndex(GroupQuantizer.F32, i, v);
                case F16 -> seg.setAtIndex(GroupQuantizer.F16, i, Half.fromFloat(v));
                case BF16 -> seg.setAtIndex(GroupQuantizer.F16, i, Half.floatToBf16(v));
                default -> throw new IllegalArgumentException("a dense weight is f32, f16 or bf16, not " + dtype);
            }
        }
        return new Dense(seg, dtype, rows, cols);
    }

    /** Quantizes {@code w[rows·cols]} (row-major) with {@link GroupQuantizer} into {@code arena}. */
    public static Quantized quantize(Arena arena, QuantScheme s, float[] w, int rows, int cols) {
        checkShape(rows, cols);
        MemorySegment data = arena.allocate(s.dataBytes(rows, cols), 64);
        MemorySegment scales = arena.allocate(s.scaleBytes(rows, cols), 64);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(w, r * cols, row, 0, cols);
            GroupQuantizer.quantizeRow(s, row, r, cols, data, scales);
        }
        return new Quantized(data, scales, s, rows, cols);
    }

    private static void checkShape(int rows, int cols) {
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("weight shape [" + rows + ", " + cols + "] must be positive");
    }
}
