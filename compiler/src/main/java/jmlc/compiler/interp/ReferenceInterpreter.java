package jmlc.compiler.interp;

import jmlc.compiler.ir.Bindings;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Dim;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.ir.Value;
import jmlc.compiler.quant.Half;
import jmlc.compiler.quant.Int8KvCache;
import jmlc.compiler.tensor.HostTensor;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Runs a graph op by op in plain Java: the definition every backend and fused kernel is tested
 * against. Any phase of the pipeline runs here (unfused, quantized, fused). Activations are f32
 * arrays; dot products and softmax accumulate in double. Slow by design: no tiling, no vectors, one
 * thread, unless {@link #parallel} asks that a matmul's rows be spread over threads (each sum is
 * then taken in the same order, so the results do not change).
 */
public final class ReferenceInterpreter {

    /** KV caches across steps of one sequence, by state name; f16 and i8 caches store the values they give back (rounded, quantized). */
    public static final class State {
        private final Map<String, float[]> buffers = new HashMap<>();

        float[] buffer(Value state) {
            return buffers.computeIfAbsent(state.name(), k -> new float[Math.toIntExact(state.type().shape().numel())]);
        }

        /** Starts {@code state} with {@code values} (all of its elements; an f16 cache should hold f16-representable values). */
        public void set(Value state, float[] values) {
            if (values.length != state.type().shape().numel())
                throw new IllegalArgumentException(state + " holds " + state.type().shape().numel() + " values, given " + values.length);
            buffers.put(state.name(), values.clone());
        }

        /** The current values of {@code state} (a copy). */
        public float[] get(Value state) {
            return buffer(state).clone();
        }

        public void clear() {
            buffers.clear();
        }
    }

    private final Graph graph;
    private final Function<Value, HostTensor> weights;
    private boolean parallel;

    /** @param weights the stored tensor of each param of {@code graph} */
    public ReferenceInterpreter(Graph graph, Function<Value, HostTensor> weights) {
        this.graph = graph;
        this.weights = weights;
    }

    /**
     * Spreads each matmul's weight rows over the common pool's threads: the same results, to the
     * bit, sooner (the tuner's checks of large kernels). The weights' memory must be readable from
     * any thread (not a confined arena's).
     */
    public ReferenceInterpreter parallel(boolean on) {
        this.parallel = on;
        return this;
    }

    /**
     * One step: {@code tokens} at positions {@code pos ..}; returns the graph's first output
     * (logits, {@code [rows, vocab]} row-major) and updates the caches in {@code state}.
     */
    public float[] run(int[] tokens, int pos, State state) {
        return run(tokens, pos, state, (node, outputs) -> { });
    }

    /** Receives each node's output values right after the node runs (for checking backends node by node). */
    @FunctionalInterface
    public interface Observer {
        void onNode(Node node, float[][] outputs);
    }

    /** {@link #run(int[], int, State)}, reporting every node's outputs to {@code observer}. */
    public float[] run(int[] tokens, int pos, State state, Observer observer) {
        return run(tokens, pos, state, Map.of(), observer);
    }

    /**
     * One step of a graph with inputs besides {@code tokens} and {@code pos} (a region cut out of
     * a model, whose activations come from outside): {@code inputs} holds their values, row-major
     * for {@code tokens.length} rows.
     */
    public float[] run(int[] tokens, int pos, State state, Map<Value, float[]> inputs, Observer observer) {
        Bindings b = Bindings.of(Dim.SEQ.name(), tokens.length);
        Map<Value, float[]> env = new IdentityHashMap<>();
        env.put(graph.input("tokens"), toFloats(tokens));
        env.put(graph.input("pos"), new float[] {pos});
        for (Value in : graph.inputs()) {
            if (in.name().equals("tokens") || in.name().equals("pos")) continue;
            float[] v = inputs.get(in);
            long want = in.type().shape().numel(b);
            if (v == null || v.length != want)
                throw new IllegalArgumentException("input " + in + " needs " + want + " values for " + tokens.length + " tokens, given " + (v == null ? "none" : v.length));
            env.put(in, in.isHalfActivation() ? Half.roundToHalf(v.clone(), v.length) : v);
        }
        for (Value s : graph.states()) env.put(s, state.buffer(s));
        int seq = tokens.length;
        for (Node n : graph.nodes()) {
            List<Value> in = n.inputs();
            float[][] out = switch (n.op()) {
                case Op.Embed e -> new float[][] {embed(in.get(0), tokens)};
                case Op.MatMul m -> new float[][] {matmul(env, n)};
                case Op.QMatMul m -> new float[][] {matmul(env, n)};
                case Op.FusedMatMul f -> new float[][] {fusedMatmul(env, n, f)};
                case Op.Dequantize d -> new float[][] {dequantize(weights.apply(in.get(0)))};
                case Op.RmsNorm r -> new float[][] {rmsNorm(env.get(in.get(0)), dense(env, in.get(1)), r.eps())};
                case Op.AddRmsNorm r -> {
                    float[] sum = add(env.get(in.get(0)), env.get(in.get(1)));
                    yield new float[][] {sum, rmsNorm(sum, dense(env, in.get(2)), r.eps())};
                }
                case Op.Add a -> new float[][] {add(env.get(in.get(0)), env.get(in.get(1)))};
                case Op.Mul m -> new float[][] {mul(env.get(in.get(0)), env.get(in.get(1)))};
                case Op.Silu s -> new float[][] {silu(env.get(in.get(0)))};
                case Op.SiluMul s -> new float[][] {siluMul(env.get(in.get(0)), seq)};
                case Op.Slice s -> new float[][] {slice(env.get(in.get(0)), seq, s.start(), s.len())};
                case Op.Rope r -> new float[][] {rope(env.get(in.get(0)), seq, pos, r.spec())};
                case Op.KvAppend k -> new float[][] {kvAppend(in.get(0), env.get(in.get(0)), env.get(in.get(1)), seq, pos)};
                case Op.Attention a -> new float[][] {attention(a, env.get(in.get(0)), env.get(in.get(1)), env.get(in.get(2)), in.get(1), seq, pos)};
                case Op.RopeKvAppend r -> ropeKvAppend(r, env, in, seq, pos);
                case Op.LastRow l -> new float[][] {lastRow(env.get(in.get(0)), seq)};
            };
            for (int i = 0; i < out.length; i++) {
                long want = n.output(i).type().shape().numel(b);
                if (out[i].length != want) throw new IllegalStateException(n.op().name() + " produced " + out[i].length + " values, type says " + want);
                if (n.output(i).isHalfActivation()) Half.roundToHalf(out[i], out[i].length);
                env.put(n.output(i), out[i]);
            }
            observer.onNode(n, out);
        }
        return env.get(graph.outputs().getFirst());
    }

    private static float[] toFloats(int[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = a[i];
        return f;
    }

    /** A dense param (norm weight, bias) or temp as floats. */
    private float[] dense(Map<Value, float[]> env, Value v) {
        float[] t = env.get(v);
        if (t != null) return t;
        return dequantize(weights.apply(v));
    }

    private float[] embed(Value table, int[] tokens) {
        HostTensor t = weights.apply(table);
        int d = (int) t.shape()[1];
        float[] out = new float[tokens.length * d];
        float[] row = new float[d];
        for (int s = 0; s < tokens.length; s++) {
            if (tokens[s] < 0 || tokens[s] >= t.shape()[0])
                throw new IllegalArgumentException("token id " + tokens[s] + " is outside the vocabulary of " + t.shape()[0]);
            t.row(tokens[s], row);
            System.arraycopy(row, 0, out, s * d, d);
        }
        return out;
    }

    private static float[] dequantize(HostTensor t) {
        float[] out = new float[Math.toIntExact(t.numel())];
        for (int i = 0; i < out.length; i++) out[i] = t.get(i);
        return out;
    }

    /** prologue(x) · w^T + bias + residual, each step as its own op defines it. */
    private float[] fusedMatmul(Map<Value, float[]> env, Node node, Op.FusedMatMul f) {
        float[] x = env.get(node.input(0));
        Value w = node.input(f.weightIndex());
        int k = (int) w.type().shape().dim(1).size();
        x = switch (f.prologue()) {
            case Op.Prologue.None none -> x;
            case Op.Prologue.RmsNorm r -> rmsNorm(x, dense(env, node.input(1)), r.eps());
            case Op.Prologue.SiluMul s -> siluMul(x, x.length / (2 * k));
        };
        float[] y = matmul(x, w, env.get(w), f.bias() ? dense(env, node.input(f.biasIndex())) : null);
        if (f.siluMulPairs()) {
            float[] o = new float[y.length / 2];
            for (int i = 0; i < o.length; i++) o[i] = silu(y[2 * i]) * y[2 * i + 1];
            return o;
        }
        return f.residual() ? add(y, env.get(node.input(f.residualIndex()))) : y;
    }

    private float[] matmul(Map<Value, float[]> env, Node node) {
        Value wv = node.input(1);
        return matmul(env.get(node.input(0)), wv, env.get(wv), node.inputs().size() == 3 ? dense(env, node.input(2)) : null);
    }

    /**
     * {@code y[s, n] = Σ_k x[s, k] · w[n, k] + bias[n]}, accumulated in double; {@code w} a param or
     * a dequantized temp. Rows of w go in chunks, over threads if {@link #parallel}: every sum is
     * taken in the same order whatever the chunks, so the result is the same to the bit.
     */
    private float[] matmul(float[] x, Value wv, float[] wTemp, float[] bias) {
        long rows = wv.type().shape().dim(0).size();
        int k = (int) wv.type().shape().dim(1).size();
        int seq = x.length / k; // rows of x: seq, or 1 after last_row
        HostTensor wHost = wTemp == null ? weights.apply(wv) : null;
        float[] out = new float[Math.toIntExact(seq * rows)];
        int chunks = (int) Math.min(rows, 256);
        var each = java.util.stream.IntStream.range(0, chunks);
        (parallel ? each.parallel() : each).forEach(c -> {
            float[] wRow = new float[k];
            for (long n = rows * c / chunks; n < rows * (c + 1) / chunks; n++) {
                if (wTemp != null) System.arraycopy(wTemp, (int) (n * k), wRow, 0, k);
                else wHost.row(n, wRow);
                for (int s = 0; s < seq; s++) {
                    double acc = 0;
                    for (int i = 0; i < k; i++) acc += (double) x[s * k + i] * wRow[i];
                    out[(int) (s * rows + n)] = (float) (acc + (bias == null ? 0 : bias[(int) n]));
                }
            }
        });
        return out;
    }

    private static float[] rmsNorm(float[] x, float[] w, double eps) {
        int d = w.length, seq = x.length / d;
        float[] out = new float[x.length];
        for (int s = 0; s < seq; s++) {
            double ss = 0;
            for (int i = 0; i < d; i++) ss += (double) x[s * d + i] * x[s * d + i];
            double inv = 1.0 / Math.sqrt(ss / d + eps);
            for (int i = 0; i < d; i++) out[s * d + i] = (float) (x[s * d + i] * inv * w[i]);
        }
        return out;
    }

    private static float[] add(float[] a, float[] b) {
        float[] o = new float[a.length];
        for (int i = 0; i < a.length; i++) o[i] = a[i] + b[i];
        return o;
    }

    private static float[] mul(float[] a, float[] b) {
        float[] o = new float[a.length];
        for (int i = 0; i < a.length; i++) o[i] = a[i] * b[i];
        return o;
    }

    static float silu(float x) {
        return (float) (x / (1.0 + Math.exp(-x)));
    }

    private static float[] silu(float[] a) {
        float[] o = new float[a.length];
        for (int i = 0; i < a.length; i++) o[i] = silu(a[i]);
        return o;
    }

    private static float[] siluMul(float[] x, int seq) {
        int f = x.length / seq / 2;
        float[] o = new float[seq * f];
        for (int s = 0; s < seq; s++)
            for (int i = 0; i < f; i++) o[s * f + i] = silu(x[s * 2 * f + i]) * x[s * 2 * f + f + i];
        return o;
    }

    private static float[] slice(float[] x, int seq, long start, long len) {
        int cols = x.length / seq;
        float[] o = new float[(int) (seq * len)];
        for (int s = 0; s < seq; s++) System.arraycopy(x, (int) (s * cols + start), o, (int) (s * len), (int) len);
        return o;
    }

    /** Rotates each head of each row by its position {@code pos + s}. */
    private static float[] rope(float[] x, int seq, int pos, RopeSpec spec) {
        float[] o = x.clone();
        ropeInPlace(o, 0, x.length / seq, x.length / seq, seq, pos, spec);
        return o;
    }

    /** Rotates columns {@code [from, from + width)} of each {@code rowLen}-long row. */
    private static void ropeInPlace(float[] x, int from, int width, int rowLen, int seq, int pos, RopeSpec spec) {
        double[] invFreq = spec.invFreq();
        int hd = spec.headDim();
        for (int s = 0; s < seq; s++) {
            for (int h = 0; h < width / hd; h++) {
                int base = s * rowLen + from + h * hd;
                for (int i = 0; i < hd / 2; i++) {
                    double angle = (double) (pos + s) * invFreq[i];
                    double c = Math.cos(angle), sn = Math.sin(angle);
                    int ia = base + spec.first(i), ib = base + spec.second(i);
                    double a = x[ia], bb = x[ib];
                    x[ia] = (float) (a * c - bb * sn);
                    x[ib] = (float) (a * sn + bb * c);
                }
            }
        }
    }

    /** Writes row {@code s} of {@code x} into cache positions {@code pos + s}; returns the (same) cache buffer. */
    private static float[] kvAppend(Value cacheValue, float[] cache, float[] x, int seq, int pos) {
        long[] shape = cacheValue.type().shape().dims().stream().mapToLong(Dim::size).toArray();
        int nKv = (int) shape[0], ctx = (int) shape[1], hd = (int) shape[2];
        if (pos + seq > ctx) throw new IllegalStateException("KV cache of " + ctx + " positions cannot hold positions " + pos + ".." + (pos + seq - 1));
        DType t = cacheValue.type().dtype();
        for (int s = 0; s < seq; s++)
            for (int h = 0; h < nKv; h++) {
                int row = (h * ctx + pos + s) * hd;
                for (int d = 0; d < hd; d++) {
                    float v = x[s * nKv * hd + h * hd + d];
                    cache[row + d] = t == DType.F16 ? Half.roundToHalf(v) : v;
                }
                if (t == DType.I8) Int8KvCache.roundTrip(cache, row, hd);
            }
        return cache;
    }

    private static float[] attention(Op.Attention a, float[] q, float[] k, float[] v, Value cacheValue, int seq, int pos) {
        int ctx = (int) cacheValue.type().shape().dim(1).size();
        int hd = a.headDim(), group = a.nHeads() / a.nKvHeads();
        float[] out = new float[q.length];
        for (int s = 0; s < seq; s++) {
            int last = pos + s;
            for (int h = 0; h < a.nHeads(); h++) {
                int g = h / group;
                double[] score = new double[last + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t <= last; t++) {
                    double dot = 0;
                    for (int d = 0; d < hd; d++) dot += (double) q[s * a.nHeads() * hd + h * hd + d] * k[(g * ctx + t) * hd + d];
                    score[t] = dot * a.scale();
                    max = Math.max(max, score[t]);
                }
                double sum = 0;
                for (int t = 0; t <= last; t++) sum += score[t] = Math.exp(score[t] - max);
                for (int d = 0; d < hd; d++) {
                    double acc = 0;
                    for (int t = 0; t <= last; t++) acc += score[t] * v[(g * ctx + t) * hd + d];
                    out[s * a.nHeads() * hd + h * hd + d] = (float) (acc / sum);
                }
            }
        }
        return out;
    }

    /** Rope on the q and k columns of the fused qkv rows, k and v appended; returns (q, kCache, vCache). */
    private static float[][] ropeKvAppend(Op.RopeKvAppend r, Map<Value, float[]> env, List<Value> in, int seq, int pos) {
        float[] qkv = env.get(in.get(0)).clone();
        int hd = r.spec().headDim(), qCols = r.nHeads() * hd, kvCols = r.nKvHeads() * hd, row = qCols + 2 * kvCols;
        ropeInPlace(qkv, 0, qCols + kvCols, row, seq, pos, r.spec());
        float[] q = slice(qkv, seq, 0, qCols);
        float[] k = kvAppend(in.get(1), env.get(in.get(1)), slice(qkv, seq, qCols, kvCols), seq, pos);
        float[] v = kvAppend(in.get(2), env.get(in.get(2)), slice(qkv, seq, qCols + kvCols, kvCols), seq, pos);
        return new float[][] {q, k, v};
    }

    private static float[] lastRow(float[] x, int seq) {
        int cols = x.length / seq;
        float[] o = new float[cols];
        System.arraycopy(x, (seq - 1) * cols, o, 0, cols);
        return o;
    }
}
