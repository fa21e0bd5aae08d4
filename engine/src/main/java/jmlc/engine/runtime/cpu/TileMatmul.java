package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static jmlc.engine.runtime.cpu.Simd.F;
import static jmlc.engine.runtime.cpu.Simd.L;

/**
 * Prefill matmul ({@code seq > 1}): {@code out[s, n] = Σ_k x[s, k] · w[n, k]}, compute-bound.
 *
 * <p>Each task dequantizes a tile of {@code tile_rows} weight rows ({@link CpuKnobs}, default
 * {@link #TILE_ROWS}) once into floats (per-worker scratch, {@code tile_rows × stride} floats, L2-resident), then multiplies it with every token:
 * the weight is read from memory and decoded once per call, not once per token. The inner kernel
 * computes 4 rows × 4 tokens with 16 vector accumulators along {@code k} (8 loads per 16 FMAs).
 * A task's results go to private scratch and are published by the first finisher
 * ({@link ThreadPool#runDuplicable}).
 *
 * <p>x is prepared once per call into rows of {@code stride} floats, zero-padded: in the permuted
 * column order of {@link Q4Gemv#permute} when the weight is 4-bit with groups of 32 (whose tiles
 * are decoded permuted, which is cheaper), else in natural order. A dot product does not care
 * about the order of its terms as long as both sides share it.
 */
final class TileMatmul {
    private TileMatmul() {}

    /** Weight rows a tile (the default of the {@code tile_rows} knob, {@link CpuKnobs}). */
    static final int TILE_ROWS = 16;

    private static boolean permuted(Weight w) {
        return w instanceof Weight.Quantized q && Q4Gemv.supports(q.scheme());
    }

    /** Floats per prepared row of x and per tile row: whole vectors (whole superblocks when permuted). */
    static int stride(Weight w) {
        return permuted(w) ? Q4Gemv.tileStride(w.cols()) : Simd.roundUp(w.cols(), L);
    }

    static void run(ThreadPool pool, float[] x, int seq, Weight w, float[] bias, float[] out) {
        run(pool, x, seq, w, bias, out, TILE_ROWS);
    }

    /** With tiles of {@code tileRows} weight rows. */
    static void run(ThreadPool pool, float[] x, int seq, Weight w, float[] bias, float[] out, int tileRows) {
        int k = w.cols(), n = w.rows(), stride = stride(w);
        boolean perm = permuted(w);
        float[] xs = pool.scratch(0, ThreadPool.X, seq * stride);
        for (int s = 0; s < seq; s++) {
            if (perm) {
                Q4Gemv.permute(x, s * k, k, xs, s * stride);
            } else {
                System.arraycopy(x, s * k, xs, s * stride, k);
                java.util.Arrays.fill(xs, s * stride + k, (s + 1) * stride, 0f);
            }
        }
        int tiles = (n + tileRows - 1) / tileRows;
        pool.runDuplicable(tiles, new ThreadPool.Duplicable() {
            /** Decodes tile {@code t} and multiplies it with every token into private {@code res[seq, tileRows]}. */
            public void compute(int t, int worker) {
                int r0 = t * tileRows, rows = Math.min(tileRows, n - r0);
                float[] tile = pool.scratch(worker, ThreadPool.TILE, tileRows * stride);
                float[] scales = perm ? pool.scratch(worker, ThreadPool.SCALES, Q4Gemv.scaleScratch(k)) : null;
                for (int i = 0; i < rows; i++) {
                    if (perm) {
                        Q4Gemv.decodePermuted((Weight.Quantized) w, r0 + i, tile, i * stride, scales);
                    } else {
                        Dequant.decodeRow(w, r0 + i, tile, i * stride);
                        java.util.Arrays.fill(tile, i * stride + k, (i + 1) * stride, 0f);
                    }
                }
                multiply(tile, rows, xs, seq, stride, pool.scratch(worker, ThreadPool.RESULT, seq * tileRows), tileRows, 0);
            }

            public void publish(int t, int worker) {
                int r0 = t * tileRows, rows = Math.min(tileRows, n - r0);
                float[] res = pool.scratch(worker, ThreadPool.RESULT, seq * tileRows);
                for (int s = 0; s < seq; s++)
                    for (int i = 0; i < rows; i++) out[s * n + r0 + i] = res[s * tileRows + i] + (bias != null ? bias[r0 + i] : 0f);
            }
        });
    }

    /** {@code out[s·n + r0 + i] = tile[i] · xs[s]} for {@code i < rows}, {@code s < seq} ({@code n}: the row stride of {@code out}). */
    private static void multiply(float[] tile, int rows, float[] xs, int seq, int stride, float[] out, int n, int r0) {
        int s = 0;
        for (; s + 4 <= seq; s += 4) {
            int i = 0;
            for (; i + 4 <= rows; i += 4) kernel4x4(tile, i * stride, xs, s * stride, stride, out, s * n + r0 + i, n);
            for (; i < rows; i++) dot1x4(tile, i * stride, xs, s * stride, stride, out, s * n + r0 + i, n);
        }
        for (; s < seq; s++) {
            int i = 0;
            for (; i + 4 <= rows; i += 4) dot1x4(xs, s * stride, tile, i * stride, stride, out, s * n + r0 + i, 1);
            for (; i < rows; i++) out[s * n + r0 + i] = dot(tile, i * stride, xs, s * stride, stride);
        }
    }

    /** Rows {@code a .. a+3} (stride apart) times tokens {@code b .. b+3}: {@code out[o + t·n + i]}. */
    private static void kernel4x4(float[] w, int a, float[] x, int b, int stride, float[] out, int o, int n) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (int k = 0; k < stride; k += L) {
            FloatVector x0 = FloatVector.fromArray(F, x, b + k), x1 = FloatVector.fromArray(F, x, b + stride + k);
            FloatVector x2 = FloatVector.fromArray(F, x, b + 2 * stride + k), x3 = FloatVector.fromArray(F, x, b + 3 * stride + k);
            FloatVector w0 = FloatVector.fromArray(F, w, a + k);
            c00 = w0.fma(x0, c00); c01 = w0.fma(x1, c01); c02 = w0.fma(x2, c02); c03 = w0.fma(x3, c03);
            FloatVector w1 = FloatVector.fromArray(F, w, a + stride + k);
            c10 = w1.fma(x0, c10); c11 = w1.fma(x1, c11); c12 = w1.fma(x2, c12); c13 = w1.fma(x3, c13);
            FloatVector w2 = FloatVector.fromArray(F, w, a + 2 * stride + k);
            c20 = w2.fma(x0, c20); c21 = w2.fma(x1, c21); c22 = w2.fma(x2, c22); c23 = w2.fma(x3, c23);
            FloatVector w3 = FloatVector.fromArray(F, w, a + 3 * stride + k);
            c30 = w3.fma(x0, c30); c31 = w3.fma(x1, c31); c32 = w3.fma(x2, c32); c33 = w3.fma(x3, c33);
        }
        out[o] = c00.reduceLanes(VectorOperators.ADD);
        out[o + 1] = c10.reduceLanes(VectorOperators.ADD);
        out[o + 2] = c20.reduceLanes(VectorOperators.ADD);
        out[o + 3] = c30.reduceLanes(VectorOperators.ADD);
        out[o + n] = c01.reduceLanes(VectorOperators.ADD);
        out[o + n + 1] = c11.reduceLanes(VectorOperators.ADD);
        out[o + n + 2] = c21.reduceLanes(VectorOperators.ADD);
        out[o + n + 3] = c31.reduceLanes(VectorOperators.ADD);
        out[o + 2 * n] = c02.reduceLanes(VectorOperators.ADD);
        out[o + 2 * n + 1] = c12.reduceLanes(VectorOperators.ADD);
        out[o + 2 * n + 2] = c22.reduceLanes(VectorOperators.ADD);
        out[o + 2 * n + 3] = c32.reduceLanes(VectorOperators.ADD);
        out[o + 3 * n] = c03.reduceLanes(VectorOperators.ADD);
        out[o + 3 * n + 1] = c13.reduceLanes(VectorOperators.ADD);
        out[o + 3 * n + 2] = c23.reduceLanes(VectorOperators.ADD);
        out[o + 3 * n + 3] = c33.reduceLanes(VectorOperators.ADD);
    }

    /** One vector {@code u[a ..]} against four {@code v[b + j·stride ..]}: {@code out[o + j·step]}. */
    private static void dot1x4(float[] u, int a, float[] v, int b, int stride, float[] out, int o, int step) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int k = 0; k < stride; k += L) {
            FloatVector p = FloatVector.fromArray(F, u, a + k);
            c0 = p.fma(FloatVector.fromArray(F, v, b + k), c0);
            c1 = p.fma(FloatVector.fromArray(F, v, b + stride + k), c1);
            c2 = p.fma(FloatVector.fromArray(F, v, b + 2 * stride + k), c2);
            c3 = p.fma(FloatVector.fromArray(F, v, b + 3 * stride + k), c3);
        }
        out[o] = c0.reduceLanes(VectorOperators.ADD);
        out[o + step] = c1.reduceLanes(VectorOperators.ADD);
        out[o + 2 * step] = c2.reduceLanes(VectorOperators.ADD);
        out[o + 3 * step] = c3.reduceLanes(VectorOperators.ADD);
    }

    private static float dot(float[] u, int a, float[] v, int b, int len) {
        FloatVector c = FloatVector.zero(F);
        for (int k = 0; k < len; k += L) c = FloatVector.fromArray(F, u, a + k).fma(FloatVector.fromArray(F, v, b + k), c);
        return c.reduceLanes(VectorOperators.ADD);
    }
}
