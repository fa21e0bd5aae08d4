package jmlc.engine.model;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.quant.Half;
import jmlc.compiler.tensor.HostTensor;
import jmlc.compiler.tensor.WeightPacker;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.NonFiniteWeights;
import jmlc.engine.format.tensor.FileMapping;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorView;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.stream.LongStream;

/**
 * A compiled model's params made from a checkpoint's tensors, in the formats the params' types name.
 *
 * <ul>
 *   <li>A dense param stored as the file stores it is the memory-mapped file region itself: no copy.</li>
 *   <li>GGUF Q4_0 and Q8_0 tensors repack losslessly into the {@code q4_0} and {@code q8f16} layouts.</li>
 *   <li>Anything else is converted row by row (f16/bf16/f32 read, Q4_0/Q8_0 dequantized) and packed:
 *       concatenations (qkv, gate_up), quantization, dtype changes. Packed params live off-heap.</li>
 * </ul>
 */
public final class CheckpointWeights extends PackedWeights {
    private final Checkpoint checkpoint;

    public CheckpointWeights(Checkpoint checkpoint, Graph graph) {
        super(graph);
        this.checkpoint = checkpoint;
    }

    /** Prepares every param now, reporting bytes done. */
    public CheckpointWeights loadAll(Progress progress) {
        makeAll("preparing weights", progress);
        return this;
    }

    @Override
    protected HostTensor make(Value p) {
        List<TensorView> src = new ArrayList<>();
        for (String name : graph.weightSource(p).tensors()) src.add(checkpoint.tensor(name));
        try {
            return make(p, src);
        } catch (InternalError e) { // the mapped file was cut short under us
            throw FileMapping.changed(src.getFirst().file(), e);
        }
    }

    private HostTensor make(Value p, List<TensorView> src) {
        Thread caller = Thread.currentThread(); // rows are read on pool threads: the interrupt reaches this one
        TensorType t = p.type();
        long rows = t.shape().rank() == 1 ? 1 : t.shape().dim(0).size();
        long cols = t.shape().dim(-1).size();
        long srcElems = src.stream().mapToLong(TensorView::numel).sum();
        if (srcElems != rows * cols)
            throw new ModelFormatException(checkpoint.path(), "weight " + p.name() + " needs " + rows * cols + " values from " + graph.weightSource(p).tensors() + ", found " + srcElems);
        if (isView(t, src)) return new HostTensor.Dense(t.dtype(), shape(t), src.getFirst().data());
        Graph.WeightSource ws = graph.weightSource(p);
        if (t.dtype().isQuantized() && src.stream().allMatch(v -> losslessRepack(t.quant(), v.dtype())))
            return repack(t.quant(), rows, cols, src, ws, caller);
        return WeightPacker.pack(t, rowReader(src, rows, cols, ws, caller), arena);
    }

    /** A param stored as the file stores it: the mapped file region itself, no copy. */
    private static boolean isView(TensorType t, List<TensorView> src) {
        return src.size() == 1 && !t.dtype().isQuantized() && sameDtype(t.dtype(), src.getFirst().dtype());
    }

    /** Bytes of host memory {@link #loadAll} will take: every param but those that are views of the mapped file. */
    public static long packedBytes(Checkpoint checkpoint, Graph graph) {
        long b = 0;
        for (Value p : graph.params()) {
            List<TensorView> src = new ArrayList<>();
            for (String name : graph.weightSource(p).tensors()) src.add(checkpoint.tensor(name));
            if (!isView(p.type(), src)) b += ModelWeights.bytesOf(p.type());
        }
        return b;
    }

    private static long[] shape(TensorType t) {
        return t.shape().dims().stream().mapToLong(d -> d.size()).toArray();
    }

    private static boolean sameDtype(DType d, TensorDType s) {
        return (d == DType.F32 && s == TensorDType.F32) || (d == DType.F16 && s == TensorDType.F16) || (d == DType.BF16 && s == TensorDType.BF16);
    }

    private static boolean losslessRepack(QuantScheme q, TensorDType s) {
        return (q.equals(QuantScheme.GGUF_Q4_0) && s == TensorDType.Q4_0) || (q.equals(QuantScheme.Q8F16) && s == TensorDType.Q8_0);
    }

    /** Reads row r of the param made of {@code src} as {@code ws} lays them out (a 1-D concatenation is one row). */
    private WeightPacker.RowSource rowReader(List<TensorView> src, long rows, long cols, Graph.WeightSource ws, Thread caller) {
        long[] rowsPer = src.stream().mapToLong(v -> v.dim(0)).toArray();
        return (r, out) -> {
            stopIfInterrupted(caller);
            if (rows == 1) {
                int off = 0;
                for (TensorView v : src) {
                    readRange(v, 0, (int) v.numel(), out, off);
                    requireFinite(v, 0, (int) v.numel(), out, off);
                    off += (int) v.numel();
                }
                return;
            }
            long[] at = ws.locate(r, rowsPer);
            TensorView v = src.get((int) at[0]);
            readRange(v, at[1] * cols, (int) cols, out, 0);
            requireFinite(v, at[1] * cols, (int) cols, out, 0);
        };
    }

    private static final ValueLayout.OfShort F16 = GroupQuantizer.F16;

    /** Elements {@code [from, from + n)} of {@code v} as floats into {@code out[off ..]}. */
    private static void readRange(TensorView v, long from, int n, float[] out, int off) {
        MemorySegment d = v.data();
        switch (v.dtype()) {
            case F32 -> MemorySegment.copy(d, GroupQuantizer.F32, from * 4, out, off, n);
            case F16 -> { for (int i = 0; i < n; i++) out[off + i] = Half.toFloat(d.getAtIndex(F16, from + i)); }
            case BF16 -> { for (int i = 0; i < n; i++) out[off + i] = Half.bf16ToFloat(d.getAtIndex(F16, from + i)); }
            case Q4_0, Q8_0 -> { for (int i = 0; i < n; i++) out[off + i] = v.getFloat(from + i); }
        }
    }

    /** A load stops within a row of an interrupt of the thread that asked for the weights. */
    private void stopIfInterrupted(Thread caller) {
        if (caller.isInterrupted()) throw new CancellationException("preparing the weights of " + checkpoint.path() + " was interrupted");
    }

    /**
     * Fails on a NaN or infinite value among {@code out[off, off + n)}, elements {@code from ..} of
     * {@code v}: quantizing would turn it into garbage or 0 without a word. One pass over a row
     * already in cache, next to quantizing it.
     */
    private void requireFinite(TensorView v, long from, int n, float[] out, int off) {
        for (int i = 0; i < n; i++)
            if (!Float.isFinite(out[off + i]))
                throw new ModelFormatException(checkpoint.path(), NonFiniteWeights.describe(checkpoint, v, from + i));
    }

    /** GGUF blocks into jmlc's layout: Q4_0 nibbles reordered (element i of a block: qs[i] low nibble, i+16 high), Q8_0 bytes copied. */
    private HostTensor repack(QuantScheme q, long rows, long cols, List<TensorView> src, Graph.WeightSource ws, Thread caller) {
        MemorySegment data = arena.allocate(q.dataBytes(rows, cols), 64);
        MemorySegment scales = arena.allocate(q.scaleBytes(rows, cols), 64);
        long blocksPerRow = cols / 32;
        long[] rowsPer = src.stream().mapToLong(v -> v.dim(0)).toArray();
        LongStream.range(0, rows).parallel().forEach(r -> {
            stopIfInterrupted(caller);
            long[] at = ws.locate(r, rowsPer);
            TensorView v = src.get((int) at[0]);
            long local = at[1];
            int bb = v.dtype().blockBytes();
            for (long b = 0; b < blocksPerRow; b++) {
                long in = (local * blocksPerRow + b) * bb, blk = r * blocksPerRow + b;
                scales.setAtIndex(F16, blk, v.data().get(F16, in));
                if (q.bits() == 4) {
                    for (int w = 0; w < 4; w++) {
                        int word = 0;
                        for (int j = 0; j < 8; j++) {
                            int e = w * 8 + j;
                            int qs = v.data().get(ValueLayout.JAVA_BYTE, in + 2 + (e & 15)) & 0xff;
                            word |= (e < 16 ? qs & 15 : qs >>> 4) << (4 * j);
                        }
                        data.setAtIndex(GroupQuantizer.U32, blk * 4 + w, word);
                    }
                } else {
                    MemorySegment.copy(v.data(), in + 2, data, blk * 32, 32);
                }
            }
        });
        return new HostTensor.Quantized(q, rows, cols, data, scales);
    }

    @Override
    public boolean synthetic() {
        return false;
    }

    @Override
    public long seed() {
        return 0;
    }
}
