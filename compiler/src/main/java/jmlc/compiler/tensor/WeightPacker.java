package jmlc.compiler.tensor;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.quant.Half;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Packs a weight, row by row, into the storage format its param type names: dense f32/f16/bf16
 * or group-quantized. Rows come from a {@link RowSource} so the whole float tensor never exists
 * at once; memory comes from the caller's arena (off-heap).
 */
public final class WeightPacker {
    private WeightPacker() {}

    /** Supplies row {@code r} of a logical {@code [rows, cols]} float weight (a 1-D weight is one row). */
    @FunctionalInterface
    public interface RowSource {
        void read(long r, float[] out);
    }

    /**
     * Packs all rows, in parallel over chunks of rows ({@code src} must allow concurrent reads of
     * different rows; the arena must be shared when more than one core is used).
     */
    public static HostTensor pack(TensorType type, RowSource src, Arena arena) {
        long[] shape = type.shape().dims().stream().mapToLong(d -> d.size()).toArray();
        long rows = shape.length == 1 ? 1 : shape[0];
        long cols = shape[shape.length - 1];
        if (cols > Integer.MAX_VALUE) throw new IllegalArgumentException("rows of " + cols + " values are too long");
        if (type.dtype().isQuantized()) {
            QuantScheme s = type.quant();
            MemorySegment data = arena.allocate(s.dataBytes(rows, cols), 64);
            MemorySegment scales = arena.allocate(s.scaleBytes(rows, cols), 64);
            forRows(rows, cols, src, (r, row) -> GroupQuantizer.quantizeRow(s, row, r, (int) cols, data, scales));
            return new HostTensor.Quantized(s, rows, cols, data, scales);
        }
        DType d = type.dtype();
        if (!d.isFloat()) throw new IllegalArgumentException("cannot store weights as " + d);
        MemorySegment data = arena.allocate(rows * cols * (d.bits() / 8), 64);
        forRows(rows, cols, src, (r, row) -> {
            long base = r * cols;
            for (int c = 0; c < cols; c++) {
                switch (d) {
                    case F32 -> data.setAtIndex(GroupQuantizer.F32, base + c, row[c]);
                    case F16 -> data.setAtIndex(GroupQuantizer.F16, base + c, Half.fromFloat(row[c]));
                    default -> data.setAtIndex(GroupQuantizer.F16, base + c, Half.floatToBf16(row[c]));
                }
            }
        });
        return new HostTensor.Dense(d, shape, data);
    }

    private interface RowSink {
        void accept(long r, float[] row);
    }

    private static void forRows(long rows, long cols, RowSource src, RowSink sink) {
        int chunks = (int) Math.min(rows, 4L * Runtime.getRuntime().availableProcessors());
        java.util.stream.IntStream.range(0, chunks).parallel().forEach(ch -> {
            float[] row = new float[(int) cols];
            for (long r = rows * ch / chunks; r < rows * (ch + 1) / chunks; r++) {
                src.read(r, row);
                sink.accept(r, row);
            }
        });
    }
}
