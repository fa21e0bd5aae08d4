package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jmlc.compiler.ir.Op;

import static jmlc.engine.runtime.cpu.Simd.F;
import static jmlc.engine.runtime.cpu.Simd.L;

/**
 * {@link Op.Attention}: causal grouped-query attention over f32 or f16 KV caches.
 * {@code q [seq, H·hd]} at positions {@code pos + s}; query {@code s} sees cache positions
 * {@code 0 .. pos+s}; query head {@code h} reads KV head {@code h / (H / nKv)}.
 *
 * <p>A task is one KV head, one query, and a slice of the query heads that share that KV head.
 * Cached keys, then values, are converted to floats a block of {@link #BLOCK} positions at a time
 * into an L1-resident tile used by every head of the slice. Scores are kept ({@code heads × ctx}
 * floats of worker scratch), the softmax subtracts the exact maximum before {@code exp}, and the
 * weighted sum of values is divided by the sum of weights at the end. Tasks: {@code nKv · seq · slices}, with the query heads of a group split into
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
        int hdp = Simd.roundUp(hd, 4 * L);                       // head rows padded to chunks of 4 vectors
        pool.runDuplicable(pairs * slices, new ThreadPool.Duplicable() {
            public void compute(int task, int worker) {
                int kvh = task % nKv, s = task / nKv % seq, h0 = firstHead(task), h1 = lastHead(task);
                if (h0 >= h1) return;
                int ctx = pos + s + 1, heads = h1 - h0;
                // scratch: queries [heads, hdp] | key or value block [BLOCK, hdp] | scores [heads, ctx] | sums [heads]
                int qs = 0, blk = heads * hdp, sc = blk + BLOCK * hdp, sums = sc + heads * ctx;
                float[] buf = pool.scratch(worker, ThreadPool.TILE, sums + heads);
                float[] acc = pool.scratch(worker, ThreadPool.RESULT, heads * hdp);
                java.util.Arrays.fill(buf, 0, sc, 0f);           // zero padding of queries and block rows
                for (int g = 0; g < heads; g++) System.arraycopy(q, (s * nHeads + h0 + g) * hd, buf, qs + g * hdp, hd);
                for (int t0 = 0; t0 < ctx; t0 += BLOCK) {
                    int n = Math.min(BLOCK, ctx - t0);
                    for (int t = 0; t < n; t++) k.load(kvh, t0 + t, buf, blk + t * hdp);
                    for (int g = 0; g < heads; g++) scores(buf, qs + g * hdp, buf, blk, hdp, n, scale, buf, sc + g * ctx + t0);
                }
                for (int g = 0; g < heads; g++) buf[sums + g] = softmax(buf, sc + g * ctx, ctx);
                java.util.Arrays.fill(acc, 0, heads * hdp, 0f);
                for (int t0 = 0; t0 < ctx; t0 += BLOCK) {
                    int n = Math.min(BLOCK, ctx - t0);
                    for (int t = 0; t < n; t++) v.load(kvh, t0 + t, buf, blk + t * hdp);
                    for (int g = 0; g < heads; g++) weighted(buf, sc + g * ctx + t0, buf, blk, hdp, n, acc, g * hdp);
                }
                for (int g = 0; g < heads; g++) {
                    float inv = 1f / buf[sums + g];
                    for (int i = 0; i < hd; i++) acc[g * hdp + i] *= inv;
                }
            }

            public void publish(int task, int worker) {
                int s = task / nKv % seq, h0 = firstHead(task), h1 = lastHead(task);
                float[] acc = pool.scratch(worker, ThreadPool.RESULT, (h1 - h0) * hdp);
                for (int g = 0; g < h1 - h0; g++) System.arraycopy(acc, g * hdp, out, (s * nHeads + h0 + g) * hd, hd);
            }

            private int firstHead(int task) {
                return task % nKv * group + task / pairs * perSlice;
            }

            private int lastHead(int task) {
                return Math.min(task % nKv * group + group, firstHead(task) + perSlice);
            }
        });
    }

    /** Positions per block: a block of key or value rows is converted to floats once and used by every head of the task. */
    static final int BLOCK = 16;

    /*
     * The two inner loops take a head in chunks of 4 vectors (rows are zero-padded to whole chunks)
     * and keep that chunk of the query, or of the output accumulator, in registers across the
     * positions of a block.
     */

    /** {@code out[o + t] = scale · q[qo ..] · rows[ro + t·hdp ..]} for {@code t < n}. */
    private static void scores(float[] q, int qo, float[] rows, int ro, int hdp, int n, float scale, float[] out, int o) {
        java.util.Arrays.fill(out, o, o + n, 0f);
        for (int c = 0; c < hdp; c += 4 * L) {
            FloatVector q0 = FloatVector.fromArray(F, q, qo + c), q1 = FloatVector.fromArray(F, q, qo + c + L);
            FloatVector q2 = FloatVector.fromArray(F, q, qo + c + 2 * L), q3 = FloatVector.fromArray(F, q, qo + c + 3 * L);
            for (int t = 0; t < n; t++) {
                int r = ro + t * hdp + c;
                FloatVector a = q0.mul(FloatVector.fromArray(F, rows, r));
                a = q1.fma(FloatVector.fromArray(F, rows, r + L), a);
                a = q2.fma(FloatVector.fromArray(F, rows, r + 2 * L), a);
                a = q3.fma(FloatVector.fromArray(F, rows, r + 3 * L), a);
                out[o + t] += a.reduceLanes(VectorOperators.ADD);
            }
        }
        for (int t = 0; t < n; t++) out[o + t] *= scale;
    }

    /** {@code acc[ao ..] += Σ_t p[po + t] · rows[ro + t·hdp ..]} for {@code t < n}. */
    private static void weighted(float[] p, int po, float[] rows, int ro, int hdp, int n, float[] acc, int ao) {
        for (int c = 0; c < hdp; c += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(F, acc, ao + c), a1 = FloatVector.fromArray(F, acc, ao + c + L);
            FloatVector a2 = FloatVector.fromArray(F, acc, ao + c + 2 * L), a3 = FloatVector.fromArray(F, acc, ao + c + 3 * L);
            for (int t = 0; t < n; t++) {
                FloatVector pt = FloatVector.broadcast(F, p[po + t]);
                int r = ro + t * hdp + c;
                a0 = FloatVector.fromArray(F, rows, r).fma(pt, a0);
                a1 = FloatVector.fromArray(F, rows, r + L).fma(pt, a1);
                a2 = FloatVector.fromArray(F, rows, r + 2 * L).fma(pt, a2);
                a3 = FloatVector.fromArray(F, rows, r + 3 * L).fma(pt, a3);
            }
            a0.intoArray(acc, ao + c);
            a1.intoArray(acc, ao + c + L);
            a2.intoArray(acc, ao + c + 2 * L);
            a3.intoArray(acc, ao + c + 3 * L);
        }
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
