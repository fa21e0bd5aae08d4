package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.Bindings;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.ir.Value;
import jmlc.compiler.pass.MemoryPlan;
import jmlc.compiler.quant.Half;
import jmlc.compiler.tensor.HostTensor;

import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Runs a graph on the CPU node by node with Vector API kernels on all cores: activations in one f32
 * array per memory-plan slot (and one per input besides tokens and pos, for a region cut out of a
 * model), KV caches off-heap, weights read in place (memory-mapped or packed). Every op of every
 * pipeline phase runs here, so any pass can be switched off; fused matmuls compose their prologue,
 * product and epilogue in scratch arrays, each matmul with its own knob values ({@link CpuKnobs}).
 * What {@link CpuRunner} runs a model with, and the CPU measurer a tuning candidate.
 */
final class CpuExecutor implements AutoCloseable {
    private final Graph graph;
    private final MemoryPlan plan;
    private final int maxContext;
    private final Function<Value, HostTensor> weights;
    private final Map<Node, CpuKnobs.Matmul> knobs;
    private final ThreadPool pool = ThreadPool.shared();
    private final Arena arena = Arena.ofShared();
    private final float[][] slots;
    private final Map<Value, float[]> inputs = new IdentityHashMap<>();
    private final Map<Value, Weight> matrices = new IdentityHashMap<>();
    private final Map<Value, float[]> vectors = new IdentityHashMap<>();
    private final Map<Value, KvCache> caches = new IdentityHashMap<>();
    private final Map<RopeSpec, Rope> ropes = new HashMap<>();
    private final Map<Value, Weight.Dense> dequantized = new IdentityHashMap<>();
    private float[] scratchA = new float[0], scratchB = new float[0];

    /**
     * @param maxSeq     the most tokens a step carries (inputs besides tokens and pos are sized for it)
     * @param maxContext positions rope tables cover
     * @param knobs      matmul nodes' knob values; a node without an entry uses the defaults
     */
    CpuExecutor(Graph graph, MemoryPlan plan, int maxSeq, int maxContext, Function<Value, HostTensor> weights, Map<Node, CpuKnobs.Matmul> knobs) {
        this.graph = graph;
        this.plan = plan;
        this.maxContext = maxContext;
        this.weights = weights;
        this.knobs = knobs;
        this.slots = slots(plan, maxSeq);
        for (Value in : graph.inputs())
            if (!in.name().equals("tokens") && !in.name().equals("pos"))
                inputs.put(in, new float[(int) in.type().shape().numel(Bindings.of("seq", maxSeq))]);
        for (Value p : graph.params()) {
            HostTensor t = weights.apply(p);
            if (p.type().shape().rank() == 1) vectors.put(p, floats(t));
            else matrices.put(p, weight(t));
        }
        for (Value s : graph.states()) {
            long[] sh = s.type().shape().dims().stream().mapToLong(d -> d.size()).toArray();
            caches.put(s, KvCache.allocate(arena, s.type().dtype(), (int) sh[0], (int) sh[1], (int) sh[2]));
        }
        for (var e : graph.stateUpdates().entrySet()) caches.put(e.getValue(), caches.get(e.getKey()));
    }

    /** Each slot of {@code plan} as floats, as many as its largest value holds: activations are f32 here whatever they are stored as on a GPU. */
    private static float[][] slots(MemoryPlan plan, int maxSeq) {
        long[] floats = new long[plan.slotBytes().size()];
        Bindings max = Bindings.of("seq", maxSeq);
        plan.slotOf().forEach((v, slot) -> floats[slot] = Math.max(floats[slot], v.type().shape().numel(max)));
        float[][] out = new float[floats.length][];
        for (int i = 0; i < out.length; i++) out[i] = new float[(int) Math.max(1, floats[i])];
        return out;
    }

    private static float[] floats(HostTensor t) {
        float[] f = new float[(int) t.numel()];
        for (int i = 0; i < f.length; i++) f[i] = t.get(i);
        return f;
    }

    private static Weight weight(HostTensor t) {
        return switch (t) {
            case HostTensor.Dense d -> new Weight.Dense(d.data(), d.dtype(), (int) d.shape()[0], (int) d.shape()[1]);
            case HostTensor.Quantized q -> new Weight.Quantized(q.data(), q.scales(), q.scheme(), (int) q.rows(), (int) q.cols());
        };
    }

    /** A value's floats: an input's own array, or its memory-plan slot. */
    float[] buf(Value v) {
        float[] in = inputs.get(v);
        return in != null ? in : slots[plan.slot(v)];
    }

    /** The cache of a state (or of its update). */
    KvCache cache(Value state) {
        return caches.get(state);
    }

    private static float[] grow(float[] a, int n) {
        return a.length >= n ? a : new float[n];
    }

    /** Runs every node for a step of {@code tokens} at positions {@code pos ..}. */
    void run(int[] tokens, int pos) {
        for (Node n : graph.nodes()) run(n, tokens, tokens.length, pos);
    }

    /** Rows of an activation in this step: seq, or its fixed count after last_row. */
    private static int rows(Value v, int seq) {
        return v.type().shape().dim(0).isFixed() ? (int) v.type().shape().dim(0).size() : seq;
    }

    private static int cols(Value v) {
        return (int) v.type().shape().cols();
    }

    private void run(Node n, int[] tokens, int seq, int pos) {
        compute(n, tokens, seq, pos);
        for (Value o : n.outputs()) // an activation stored as f16 (HalfMatmulInputs): its readers see it rounded, as on a GPU
            if (o.isHalfActivation()) Half.roundToHalf(buf(o), rows(o, seq) * cols(o));
    }

    private void compute(Node n, int[] tokens, int seq, int pos) {
        List<Value> in = n.inputs();
        switch (n.op()) {
            case Op.Embed e -> Embedding.lookup(matrices.get(in.get(0)), tokens, seq, buf(n.output()));
            case Op.MatMul m -> matmul(n, MatmulParts.of(n), n.output(), seq);
            case Op.QMatMul m -> matmul(n, MatmulParts.of(n), n.output(), seq);
            case Op.FusedMatMul f -> matmul(n, MatmulParts.of(n), n.output(), seq);
            case Op.Dequantize d -> dequantize(in.get(0), n.output());
            case Op.RmsNorm r -> Norms.rmsNorm(buf(in.get(0)), rows(in.get(0), seq), vectors.get(in.get(1)), r.eps(), buf(n.output()));
            case Op.AddRmsNorm r -> Norms.addRmsNorm(buf(in.get(0)), buf(in.get(1)), rows(in.get(0), seq), vectors.get(in.get(2)), r.eps(),
                    buf(n.output(0)), buf(n.output(1)));
            case Op.Add a -> Elementwise.add(buf(in.get(0)), buf(in.get(1)), rows(in.get(0), seq) * cols(in.get(0)), buf(n.output()));
            case Op.Mul m -> Elementwise.mul(buf(in.get(0)), buf(in.get(1)), rows(in.get(0), seq) * cols(in.get(0)), buf(n.output()));
            case Op.Silu s -> Elementwise.silu(buf(in.get(0)), rows(in.get(0), seq) * cols(in.get(0)), buf(n.output()));
            case Op.SiluMul s -> Elementwise.siluMul(buf(in.get(0)), rows(in.get(0), seq), cols(n.output()), buf(n.output()));
            case Op.Slice s -> {
                float[] x = buf(in.get(0)), y = buf(n.output());
                int c = cols(in.get(0)), r = rows(in.get(0), seq);
                for (int i = 0; i < r; i++) System.arraycopy(x, i * c + (int) s.start(), y, i * (int) s.len(), (int) s.len());
            }
            case Op.LastRow l -> {
                int c = cols(in.get(0));
                System.arraycopy(buf(in.get(0)), (rows(in.get(0), seq) - 1) * c, buf(n.output()), 0, c);
            }
            case Op.Rope r -> rope(r.spec()).apply(buf(in.get(0)), seq, cols(in.get(0)), pos, buf(n.output()));
            case Op.KvAppend k -> caches.get(in.get(0)).append(buf(in.get(1)), seq, pos);
            case Op.RopeKvAppend r -> rope(r.spec()).applyAndAppend(buf(in.get(0)), seq, r.nHeads(), r.nKvHeads(), pos, buf(n.output(0)),
                    caches.get(in.get(1)), caches.get(in.get(2)));
            case Op.Attention a -> Attention.attention(pool, buf(in.get(0)), seq, caches.get(in.get(1)), caches.get(in.get(2)), pos,
                    a.nHeads(), (float) a.scale(), buf(n.output()));
        }
    }

    private Rope rope(RopeSpec spec) {
        return ropes.computeIfAbsent(spec, s -> new Rope(s, maxContext));
    }

    /** prologue(x) into scratch, the product, then the epilogue: bias in the kernel, residual or silu·mul pairs after. */
    private void matmul(Node node, MatmulParts m, Value out, int seq) {
        int r = rows(m.x(), seq), k = (int) m.k(), n = (int) m.n();
        float[] x = buf(m.x());
        switch (m.prologue()) {
            case Op.Prologue.None none -> { }
            case Op.Prologue.RmsNorm norm -> {
                scratchA = grow(scratchA, r * k);
                Norms.rmsNorm(x, r, vectors.get(m.normWeight()), norm.eps(), scratchA);
                x = scratchA;
            }
            case Op.Prologue.SiluMul s -> {
                scratchA = grow(scratchA, r * k);
                Elementwise.siluMul(x, r, k, scratchA);
                x = scratchA;
            }
        }
        Weight w = m.w().kind() == Value.Kind.PARAM ? matrices.get(m.w()) : dequantized.get(m.w());
        float[] bias = m.bias() == null ? null : vectors.get(m.bias());
        float[] y = buf(out);
        if (m.siluMulPairs()) {
            scratchB = grow(scratchB, r * n);
            MatMul.matmul(pool, x, r, w, bias, scratchB, knobs.getOrDefault(node, CpuKnobs.Matmul.DEFAULTS));
            for (int i = 0; i < r * n / 2; i++) y[i] = silu(scratchB[2 * i]) * scratchB[2 * i + 1];
            return;
        }
        MatMul.matmul(pool, x, r, w, bias, y, knobs.getOrDefault(node, CpuKnobs.Matmul.DEFAULTS));
        if (m.residual() != null) Elementwise.add(y, buf(m.residual()), r * n, y);
    }

    private static float silu(float v) {
        return (float) (v / (1.0 + Math.exp(-v)));
    }

    /** A dequantize node (FuseDequantMatmul switched off): the whole weight in f32, off-heap, once. */
    private void dequantize(Value param, Value out) {
        dequantized.computeIfAbsent(out, o -> {
            HostTensor t = weights.apply(param);
            float[] f = floats(t);
            return Weight.dense(arena, DType.F32, f, (int) t.shape()[0], (int) t.shape()[1]);
        });
    }

    @Override
    public void close() {
        arena.close();
    }
}
