package jmlc.engine.format.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import jmlc.compiler.ir.RopeSpec;
import org.junit.jupiter.api.Test;

/**
 * Why llama GGUF files are INTERLEAVED: rotating the permuted projection's output with
 * INTERLEAVED rope gives the permuted rotation of the original output with HALF rope, so every
 * per-head dot product q·k (the attention scores) is unchanged. Computed directly, no graph.
 */
class LlamaPermutationTest {
    static final int HEADS = 4, KV_HEADS = 2, HD = 8, COLS = 12;

    /** Rotates each head of {@code x} in place at position {@code pos}, pairs chosen by the spec's style. */
    static void rope(double[] x, RopeSpec spec, int pos) {
        double[] f = spec.invFreq();
        for (int h = 0; h < x.length / spec.headDim(); h++)
            for (int i = 0; i < spec.headDim() / 2; i++) {
                int a = h * spec.headDim() + spec.first(i), b = h * spec.headDim() + spec.second(i);
                double c = Math.cos(pos * f[i]), s = Math.sin(pos * f[i]);
                double xa = x[a], xb = x[b];
                x[a] = xa * c - xb * s;
                x[b] = xa * s + xb * c;
            }
    }

    static double[] matvec(float[] w, int rows, double[] v) {
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) for (int c = 0; c < v.length; c++) out[r] += w[r * v.length + c] * v[c];
        return out;
    }

    @Test
    void permutedRowsMoveRowIAndIPlusHalfNextToEachOther() {
        float[] w = new float[2 * HD];
        for (int r = 0; r < w.length; r++) w[r] = r; // one column: each row holds its index
        float[] p = LlamaPermutation.permuteRows(w, 2 * HD, 1, 2);
        // head 0: 0 4 1 5 2 6 3 7, head 1: 8 12 9 13 ...
        assertEquals(0, p[0]);
        assertEquals(4, p[1]);
        assertEquals(1, p[2]);
        assertEquals(5, p[3]);
        assertEquals(3, p[6]);
        assertEquals(7, p[7]);
        assertEquals(8, p[8]);
        assertEquals(12, p[9]);
    }

    @Test
    void interleavedRopeOnPermutedRowsEqualsHalfRopeOnOriginalRows() {
        SplittableRandom rng = new SplittableRandom(11);
        float[] wq = new float[HEADS * HD * COLS], wk = new float[KV_HEADS * HD * COLS];
        for (int i = 0; i < wq.length; i++) wq[i] = (float) rng.nextGaussian();
        for (int i = 0; i < wk.length; i++) wk[i] = (float) rng.nextGaussian();
        double[] xq = new double[COLS], xk = new double[COLS];
        for (int i = 0; i < COLS; i++) {
            xq[i] = rng.nextGaussian();
            xk[i] = rng.nextGaussian();
        }
        RopeSpec half = new RopeSpec(HD, 10000, RopeSpec.Style.HALF, new RopeSpec.Scaling.None());
        RopeSpec inter = new RopeSpec(HD, 10000, RopeSpec.Style.INTERLEAVED, new RopeSpec.Scaling.None());
        int qPos = 7, kPos = 3;

        double[] q = matvec(wq, HEADS * HD, xq), k = matvec(wk, KV_HEADS * HD, xk);
        rope(q, half, qPos);
        rope(k, half, kPos);
        double[] qp = matvec(LlamaPermutation.permuteRows(wq, HEADS * HD, COLS, HEADS), HEADS * HD, xq);
        double[] kp = matvec(LlamaPermutation.permuteRows(wk, KV_HEADS * HD, COLS, KV_HEADS), KV_HEADS * HD, xk);
        rope(qp, inter, qPos);
        rope(kp, inter, kPos);

        // elementwise: interleaved value 2i + j of a head is half-style value j·hd/2 + i
        for (int h = 0; h < HEADS; h++)
            for (int i = 0; i < HD / 2; i++)
                for (int j = 0; j < 2; j++)
                    assertEquals(q[h * HD + j * HD / 2 + i], qp[h * HD + 2 * i + j], 1e-9);
        // attention scores of every q head against its kv head (grouped-query attention)
        for (int h = 0; h < HEADS; h++) {
            int kv = h / (HEADS / KV_HEADS);
            double s = 0, sp = 0;
            for (int d = 0; d < HD; d++) {
                s += q[h * HD + d] * k[kv * HD + d];
                sp += qp[h * HD + d] * kp[kv * HD + d];
            }
            assertEquals(s, sp, 1e-9 * Math.max(1, Math.abs(s)), "score of head " + h);
        }
    }
}
