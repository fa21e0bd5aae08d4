package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.quant.Half;

/**
 * The scalar reference of every CPU kernel: plain loops over the definitions in {@code Op},
 * accumulating in double where sums are long. The fast kernels are tested against these, and
 * {@code -Djmlc.cpu.vector=false} runs these instead of them. Single-threaded, and slow on purpose:
 * nothing here is clever.
 */
public final class Reference {
    private Reference() {}

    /** Row {@code r} of any weight kind as floats, through {@link GroupQuantizer} and {@link Weight.Dense#get}. */
    public static float[] row(Weight w, int r) {
        float[] out = new float[w.cols()];
        switch (w) {
            case Weight.Dense d -> { for (int c = 0; c < d.cols(); c++) out[c] = d.get(r, c); }
            case Weight.Quantized q -> GroupQuantizer.dequantizeRow(q.scheme(), q.data(), q.scales(), r, q.cols(), out);
        }
        return out;
    }

    /** {@code out[s, n] = Σ_k x[s, k] · w[n, k] + bias[n]}. */
    public static void matmul(float[] x, int seq, Weight w, float[] bias, float[] out) {
        int n = w.rows(), k = w.cols();
        for (int r = 0; r < n; r++) {
            float[] row = row(w, r);
            for (int s = 0; s < seq; s++) {
                double acc = bias != null ? bias[r] : 0;
                for (int c = 0; c < k; c++) acc += (double) x[s * k + c] * row[c];
                out[s * n + r] = (float) acc;
            }
        }
    }

    /** {@code out[s, :] = table[tokens[s], :]}. */
    public static void embedding(Weight table, int[] tokens, int seq, float[] out) {
        for (int s = 0; s < seq; s++) System.arraycopy(row(table, tokens[s]), 0, out, s * table.cols(), table.cols());
    }

    /** {@code out[s, :] = x[s, :] / sqrt(mean(x[s, :]²) + eps) · w}. */
    public static void rmsNorm(float[] x, int seq, float[] w, double eps, float[] out) {
        int d = w.length;
        for (int s = 0; s < seq; s++) {
            double ss = 0;
            for (int i = 0; i < d; i++) ss += (double) x[s * d + i] * x[s * d + i];
            double inv = 1 / Math.sqrt(ss / d + eps);
            for (int i = 0; i < d; i++) out[s * d + i] = (float) (x[s * d + i] * inv * w[i]);
        }
    }

    /** {@code sum = a + b; out = rmsNorm(sum)}. */
    public static void addRmsNorm(float[] a, float[] b, int seq, float[] w, double eps, float[] sum, float[] out) {
        add(a, b, seq * w.length, sum);
        rmsNorm(sum, seq, w, eps, out);
    }

    public static void add(float[] a, float[] b, int n, float[] out) {
        for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
    }

    public static void mul(float[] a, float[] b, int n, float[] out) {
        for (int i = 0; i < n; i++) out[i] = a[i] * b[i];
    }

    public static void silu(float[] x, int n, float[] out) {
        for (int i = 0; i < n; i++) out[i] = (float) silu((double) x[i]);
    }

    /** {@code out[s, i] = silu(x[s, i]) · x[s, f + i]} for {@code x [seq, 2f]}. */
    public static void siluMul(float[] x, int seq, int f, float[] out) {
        for (int s = 0; s < seq; s++)
            for (int i = 0; i < f; i++) out[s * f + i] = (float) (silu((double) x[s * 2 * f + i]) * x[s * 2 * f + f + i]);
    }

    private static double silu(double v) {
        return v / (1 + Math.exp(-v));
    }

    /** Rotary embedding of every head of {@code x [seq, cols]} at positions {@code pos + s}, angles in double. */
    public static void rope(RopeSpec spec, float[] x, int seq, int cols, int pos, float[] out) {
        double[] inv = spec.invFreq();
        int hd = spec.headDim();
        for (int s = 0; s < seq; s++)
            for (int h = 0; h < cols / hd; h++) {
                int base = s * cols + h * hd;
                for (int i = 0; i < hd / 2; i++) {
                    double angle = (pos + s) * inv[i], c = Math.cos(angle), sn = Math.sin(angle);
                    double a = x[base + spec.first(i)], b = x[base + spec.second(i)];
                    out[base + spec.first(i)] = (float) (a * c - b * sn);
                    out[base + spec.second(i)] = (float) (b * c + a * sn);
                }
            }
    }

    /** {@code cache[h, pos+s, :] = x[s, h·hd : (h+1)·hd]}, a row at a time (an int8 cache quantizes it). */
    public static void kvAppend(KvCache cache, float[] x, int seq, int pos) {
        for (int s = 0; s < seq; s++)
            for (int h = 0; h < cache.nKv(); h++) cache.put(h, pos + s, x, (s * cache.nKv() + h) * cache.headDim());
    }

    /** Rope of q and k heads of {@code qkv [seq, (H + 2·nKv)·hd]}, q to {@code qOut}, k and v appended to the caches. */
    public static void ropeKvAppend(RopeSpec spec, float[] qkv, int seq, int nHeads, int nKv, int pos, float[] qOut, KvCache k, KvCache v) {
        int hd = spec.headDim(), row = (nHeads + 2 * nKv) * hd;
        float[] q = new float[seq * nHeads * hd], kx = new float[seq * nKv * hd], vx = new float[seq * nKv * hd];
        for (int s = 0; s < seq; s++) {
            System.arraycopy(qkv, s * row, q, s * nHeads * hd, nHeads * hd);
            System.arraycopy(qkv, s * row + nHeads * hd, kx, s * nKv * hd, nKv * hd);
            System.arraycopy(qkv, s * row + (nHeads + nKv) * hd, vx, s * nKv * hd, nKv * hd);
        }
        rope(spec, q, seq, nHeads * hd, pos, qOut);
        rope(spec, kx, seq, nKv * hd, pos, kx);
        kvAppend(k, kx, seq, pos);
        kvAppend(v, vx, seq, pos);
    }

    /** Causal grouped-query attention; query {@code s} sees positions {@code 0 .. pos+s}; softmax in double. */
    public static void attention(float[] q, int seq, KvCache k, KvCache v, int pos, int nHeads, float scale, float[] out) {
        int hd = k.headDim(), group = nHeads / k.nKv();
        for (int s = 0; s < seq; s++)
            for (int h = 0; h < nHeads; h++) {
                int kvh = h / group, ctx = pos + s + 1, qo = (s * nHeads + h) * hd;
                double[] score = new double[ctx];
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t < ctx; t++) {
                    double d = 0;
                    for (int i = 0; i < hd; i++) d += (double) q[qo + i] * k.get(kvh, t, i);
                    score[t] = d * scale;
                    max = Math.max(max, score[t]);
                }
                double sum = 0;
                for (int t = 0; t < ctx; t++) sum += score[t] = Math.exp(score[t] - max);
                for (int i = 0; i < hd; i++) {
                    double o = 0;
                    for (int t = 0; t < ctx; t++) o += score[t] * v.get(kvh, t, i);
                    out[qo + i] = (float) (o / sum);
                }
            }
    }

    /** Index of the first largest value of {@code x[off .. off+n)}; NaN is never largest; 0 when all are NaN. */
    public static int argmax(float[] x, int off, int n) {
        int best = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++)
            if (x[off + i] > max) {
                max = x[off + i];
                best = i;
            }
        return best;
    }
}
