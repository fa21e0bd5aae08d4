package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jmlc.compiler.ir.Op;

import static jmlc.engine.runtime.cpu.Simd.F;
import static jmlc.engine.runtime.cpu.Simd.L;

/**
 * {@link Op.Attention}: causal grouped-query attention over f32 or f16 KV caches.
 * {@code q [seq, H·hd]} at positions {@code pos + s}; query {@code s} sees cache positions
 * {@code 0 .. pos+s}; query head {@code h} reads KV head {@code h / (H / nKv)}.
 *
 * <p>A task is one KV head, one query, and a slice of the query heads that share that KV head:
 * each cached key and value row is converted to floats once per task and used by every head of the
 * slice. Scores are kept ({@code heads × ctx} floats of worker scratch), the softmax subtracts the
 * exact maximum before {@code exp}, and the weighted sum of values is divided by the sum of
 * weights at the end. Tasks: {@code nKv · seq · slices}, with the query heads of a group split into
 * slices only when there are fewer (KV head, query) pairs than twice the threads (decode). Each
 * task computes into private scratch and publishes ({@link ThreadPool#runDuplicable}).
 */
public final class Attention {
    private Attention() {}

    public static void attention(ThreadPool pool, float[] q, int seq, KvCache k, KvCache v, int pos, int nHeads, float scale, float[] out) {
        check(q, seq, k, v, pos, nHeads, out);
        if (!Simd.ENABLED) {
            Reference.attention(q, seq, k, v, pos, nHeads, scale, out);
            return;
        }
        int nKv = k.nKv(), group = nHeads / nKv, hd = k.headDim();
        int pairs = nKv * seq;
        int slices = Math.min(group, Math.max(1, (2 * pool.threads() + pairs - 1) / pairs));
        int perSlice = (group + slices - 1) / slices;
        pool.runDuplicable(pairs * slices, new ThreadPool.Duplicable() {
            public void compute(int task, int worker) {
                int kvh = task % nKv, s = task / nKv % seq, h0 = firstHead(task), h1 = lastHead(task);
                if (h0 >= h1) return;
                int ctx = pos + s + 1, heads = h1 - h0;
                // scratch: key/value row [hd], scores [heads, ctx], sums [heads]; result [heads, hd]
                float[] buf = pool.scratch(worker, ThreadPool.TILE, hd + heads * ctx + heads);
                float[] acc = pool.scratch(worker, ThreadPool.RESULT, heads * hd);
                int sc = hd, sums = sc + heads * ctx;
                int q0 = (s * nHeads + h0) * hd;
                for (int t = 0; t < ctx; t++) {
                    k.load(kvh, t, buf, 0);
                    for (int g = 0; g < heads; g++) buf[sc + g * ctx + t] = Simd.dot(q, q0 + g * hd, buf, 0, hd) * scale;
                }
                for (int g = 0; g < heads; g++) buf[sums + g] = softmax(buf, sc + g * ctx, ctx);
                java.util.Arrays.fill(acc, 0, heads * hd, 0f);
                for (int t = 0; t < ctx; t++) {
                    v.load(kvh, t, buf, 0);
                    for (int g = 0; g < heads; g++) axpy(buf[sc + g * ctx + t], buf, 0, acc, g * hd, hd);
                }
                for (int g = 0; g < heads; g++) {
                    float inv = 1f / buf[sums + g];
                    for (int i = 0; i < hd; i++) acc[g * hd + i] *= inv;
                }
            }

            public void publish(int task, int worker) {
                int s = task / nKv % seq, h0 = firstHead(task), h1 = lastHead(task);
                if (h0 < h1) System.arraycopy(pool.scratch(worker, ThreadPool.RESULT, (h1 - h0) * hd), 0, out, (s * nHeads + h0) * hd, (h1 - h0) * hd);
            }

            private int firstHead(int task) {
                return task % nKv * group + task / pairs * perSlice;
            }

            private int lastHead(int task) {
                return Math.min(task % nKv * group + group, firstHead(task) + perSlice);
            }
        });
    }

    /** Replaces {@code x[o .. o+n)} by {@code exp(x − max x)}; returns their sum. */
    private static float softmax(float[] x, int o, int n) {
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i + L <= n; i += L) mv = mv.max(FloatVector.fromArray(F, x, o + i));
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (int j = i; j < n; j++) max = Math.max(max, x[o + j]);
        FloatVector sum = FloatVector.zero(F);
        for (i = 0; i + L <= n; i += L) {
            FloatVector e = FloatVector.fromArray(F, x, o + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(x, o + i);
            sum = sum.add(e);
        }
        float total = sum.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) total += x[o + i] = (float) Math.exp(x[o + i] - max);
        return total;
    }

    /** {@code y[yo + i] += a · x[xo + i]} for {@code i < n}. */
    private static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector av = FloatVector.broadcast(F, a);
        int i = 0;
        for (; i + L <= n; i += L)
            FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector.fromArray(F, x, xo + i, m).fma(av, FloatVector.fromArray(F, y, yo + i, m)).intoArray(y, yo + i, m);
        }
    }

    private static void check(float[] q, int seq, KvCache k, KvCache v, int pos, int nHeads, float[] out) {
        if (k.nKv() != v.nKv() || k.headDim() != v.headDim() || k.maxCtx() != v.maxCtx())
            throw new IllegalArgumentException("attention: key cache " + k + " and value cache " + v + " differ in shape");
        if (nHeads <= 0 || nHeads % k.nKv() != 0)
            throw new IllegalArgumentException("attention: " + nHeads + " query heads are not a multiple of " + k.nKv() + " KV heads");
        if (seq < 1 || pos < 0 || (long) pos + seq > k.maxCtx())
            throw new IllegalArgumentException("attention: positions " + pos + " .. " + (pos + seq - 1) + " are outside the cache of " + k.maxCtx());
        Elementwise.check("attention", (long) seq * nHeads * k.headDim(), q, out);
    }
}
