package jmlc.engine.model;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.quant.Half;
import jmlc.compiler.tensor.HostTensor;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Random weights in the stored formats, made directly (no float tensor, no quantization pass):
 * packed nibbles and scales for quantized params, small Gaussian-like values for dense ones, ones
 * for norm weights. Speed does not depend on the values, and activations stay finite.
 * Made lazily per param, in parallel across rows.
 */
public final class SyntheticWeights extends PackedWeights {
    /** Standard deviation of dense weights and of dequantized quantized weights (about that of trained 7B models). */
    static final float STD = 0.02f;

    private final long seed;
    private final Progress progress;
    private final boolean varied;

    public SyntheticWeights(Graph graph, long seed, Progress progress) {
        this(graph, seed, progress, false);
    }

    /**
     * @param varied every quantization group gets its own scale (0.5 to 1.5 times the usual) and
     *               norm weights vary the same way around one, so a kernel that mixes up groups
     *               or ignores a norm weight is caught when checked against the reference (the
     *               tuner's checks); false: one scale per tensor and norms of ones, as on the device
     */
    public SyntheticWeights(Graph graph, long seed, Progress progress, boolean varied) {
        super(graph);
        this.seed = seed;
        this.progress = progress;
        this.varied = varied;
    }

    /** Makes every param now, reporting progress. */
    public SyntheticWeights makeAll() {
        makeAll("making random weights", progress);
        return this;
    }

    @Override
    protected HostTensor make(Value p) {
        TensorType t = p.type();
        long salt = seed * 0x9E3779B97F4A7C15L + p.name().hashCode();
        if (t.dtype().isQuantized()) {
            QuantScheme s = t.quant();
            long rows = t.shape().dim(0).size(), cols = t.shape().dim(1).size();
            MemorySegment data = arena.allocate(s.dataBytes(rows, cols), 64);
            MemorySegment scales = arena.allocate(s.scaleBytes(rows, cols), 64);
            fillInts(data, salt);
            // uniform 4-bit q in [0, 15] around zero 7/8 has std ≈ 4.6 steps, uniform signed bytes ≈ 73.9:
            // scale so dequantized values have std ≈ STD
            float scale = s.bits() == 4 ? STD / 4.6f : STD / 73.9f;
            long n = scales.byteSize() / (s.scaleType() == DType.F16 ? 2 : 4);
            SplittableRandom jitter = new SplittableRandom(salt ^ 0x5CA1E);
            for (long i = 0; i < n; i++) {
                float v = varied ? scale * (float) (0.5 + jitter.nextDouble()) : scale;
                if (s.scaleType() == DType.F16) scales.setAtIndex(GroupQuantizer.F16, i, Half.fromFloat(v));
                else scales.setAtIndex(GroupQuantizer.F32, i, v);
            }
            return new HostTensor.Quantized(s, rows, cols, data, scales);
        }
        long[] shape = t.shape().dims().stream().mapToLong(d -> d.size()).toArray();
        long n = t.shape().numel();
        int bytes = t.dtype().bits() / 8;
        MemorySegment data = arena.allocate(n * bytes, 64);
        boolean norm = shape.length == 1 && p.name().endsWith("norm.weight");
        SplittableRandom r = new SplittableRandom(salt);
        for (long i = 0; i < n; i++) {
            float v = norm ? (varied ? (float) (0.5 + r.nextDouble()) : 1f) : (float) ((r.nextDouble() * 2 - 1) * STD * Math.sqrt(3));
            switch (t.dtype()) {
                case F32 -> data.setAtIndex(GroupQuantizer.F32, i, v);
                case F16 -> data.setAtIndex(GroupQuantizer.F16, i, Half.fromFloat(v));
                case BF16 -> data.setAtIndex(GroupQuantizer.F16, i, Half.floatToBf16(v));
                default -> throw new IllegalArgumentException("cannot make synthetic " + t);
            }
        }
        return new HostTensor.Dense(t.dtype(), shape, data);
    }

    /** Fills with random ints, in parallel chunks with their own streams. */
    private static void fillInts(MemorySegment seg, long salt) {
        long words = seg.byteSize() / 4;
        int chunks = (int) Math.max(1, Math.min(64, words / (1 << 16)));
        IntStream.range(0, chunks).parallel().forEach(c -> {
            SplittableRandom r = new SplittableRandom(salt + c);
            long from = words * c / chunks, to = words * (c + 1) / chunks;
            for (long i = from; i < to; i++) seg.setAtIndex(GroupQuantizer.U32, i, r.nextInt());
        });
    }

    @Override
    public boolean synthetic() {
        return true;
    }

    @Override
    public long seed() {
        return seed;
    }
}
