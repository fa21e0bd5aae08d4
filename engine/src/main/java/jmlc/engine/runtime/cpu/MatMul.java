package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.Op;

/**
 * {@link Op.MatMul} and {@link Op.QMatMul}: {@code out[s, n] = Σ_k x[s, k] · w[n, k] (+ bias[n])}
 * for every {@link Weight} kind. {@code x} is f32 {@code [seq, K]} row-major, {@code out} f32
 * {@code [seq, N]}; {@code bias} is {@code null} or f32 {@code [N]}.
 *
 * <p>{@code seq = 1} (decode) runs a GEMV: {@link Q4Gemv} (4-bit, groups of 32), {@link Q8Gemv}
 * (8-bit, groups of 32), {@link DenseGemv} (f32/f16/bf16), or a decode-then-dot fallback for other
 * group sizes; rows are split over the pool in contiguous ranges, or, when there are fewer than
 * {@link #MIN_ROWS_PER_THREAD} rows per thread, the columns are split (split-K) and the partial sums
 * added. Both are {@link ThreadPool#runDuplicable} runs. {@code seq > 1} (prefill) runs
 * {@link TileMatmul}.
 */
public final class MatMul {
    private MatMul() {}

    /** Below this many rows per thread a GEMV splits the columns instead of the rows (the default of the {@code split_rows} knob). */
    static final int MIN_ROWS_PER_THREAD = 16;

    /** Row tasks per thread for a GEMV: several, so a thread slowed by another process is covered by the other (the default of {@code tasks_per_thread}). */
    static final int TASKS_PER_THREAD = Integer.getInteger("jmlc.cpu.gemvTasksPerThread", 4);

    /** Rows {@code [r0, r1)} over column units {@code [u0, u1)} into {@code out[outOff + r]}. */
    private interface RowKernel {
        void rows(int r0, int r1, int u0, int u1, float[] out, int outOff, int worker);
    }

    public static void matmul(ThreadPool pool, float[] x, int seq, Weight w, float[] bias, float[] out) {
        matmul(pool, x, seq, w, bias, out, CpuKnobs.Matmul.DEFAULTS);
    }

    /** With the knob values {@code k} ({@link CpuKnobs}: tuned, or the defaults). */
    public static void matmul(ThreadPool pool, float[] x, int seq, Weight w, float[] bias, float[] out, CpuKnobs.Matmul k) {
        check(x, seq, w, bias, out);
        if (!Simd.ENABLED) {
            Reference.matmul(x, seq, w, bias, out);
        } else if (seq > 1) {
            TileMatmul.run(pool, x, seq, w, bias, out, k.tileRows());
        } else {
            gemv(pool, x, w, bias, out, k.tasksPerThread(), k.splitRows());
        }
    }

    private static void gemv(ThreadPool pool, float[] x, Weight w, float[] bias, float[] out, int tasksPerThread, int splitRows) {
        int k = w.cols();
        int units;
        RowKernel kernel;
        switch (w) {
            case Weight.Quantized q when Q4Gemv.supports(q.scheme()) -> {
                float[] xq = pool.scratch(0, ThreadPool.X, Q4Gemv.preparedLength(k));
                Q4Gemv.prepare(x, 0, k, q.scheme().zero(), xq);
                units = Q4Gemv.superblocks(k);
                kernel = (r0, r1, u0, u1, o, oo, wk) -> Q4Gemv.rows(q, xq, r0, r1, u0, u1, o, oo);
            }
            case Weight.Quantized q when Q8Gemv.supports(q.scheme()) -> {
                units = Q8Gemv.superblocks(k);
                kernel = (r0, r1, u0, u1, o, oo, wk) ->
                        Q8Gemv.rows(q, x, 0, r0, r1, u0, u1, o, oo, pool.scratch(wk, ThreadPool.TILE, Q8Gemv.scratchLength(k)));
            }
            case Weight.Quantized q -> {
                units = 1;                                       // no split-K: a row is decoded whole
                kernel = (r0, r1, u0, u1, o, oo, wk) -> {
                    float[] row = pool.scratch(wk, ThreadPool.TILE, k);
                    for (int r = r0; r < r1; r++) {
                        Dequant.decodeRow(q, r, row, 0);
                        o[oo + r] = Simd.dot(row, 0, x, 0, k);
                    }
                };
            }
            case Weight.Dense d -> {
                units = DenseGemv.chunks(k);
                kernel = (r0, r1, u0, u1, o, oo, wk) -> DenseGemv.rows(d, x, 0, r0, r1, u0, u1, o, oo);
            }
        }
        int n = w.rows(), threads = pool.threads();
        if (n >= threads * splitRows || units < 2 || threads == 1) {
            // Rows in contiguous ranges; each task computes its range privately and the first to
            // finish publishes it (ThreadPool.runDuplicable: a descheduled worker is not waited for).
            int tasks = Math.max(1, Math.min(threads * tasksPerThread, n / splitRows));
            int u = units;
            pool.runDuplicable(tasks, new ThreadPool.Duplicable() {
                public void compute(int t, int wk) {
                    int r0 = (int) ((long) n * t / tasks), r1 = (int) ((long) n * (t + 1) / tasks);
                    kernel.rows(r0, r1, 0, u, pool.scratch(wk, ThreadPool.RESULT, r1 - r0), -r0, wk);
                }

                public void publish(int t, int wk) {
                    int r0 = (int) ((long) n * t / tasks), r1 = (int) ((long) n * (t + 1) / tasks);
                    float[] res = pool.scratch(wk, ThreadPool.RESULT, r1 - r0);
                    if (bias == null) System.arraycopy(res, 0, out, r0, r1 - r0);
                    else for (int r = r0; r < r1; r++) out[r] = res[r - r0] + bias[r];
                }
            });
        } else {
            // Few rows: split the columns, each part a partial sum of every row, then add the parts.
            int parts = Math.min(threads, units), u = units;
            float[] partial = pool.scratch(0, ThreadPool.PARTIAL, parts * n);
            pool.runDuplicable(parts, new ThreadPool.Duplicable() {
                public void compute(int p, int wk) {
                    kernel.rows(0, n, u * p / parts, u * (p + 1) / parts, pool.scratch(wk, ThreadPool.RESULT, n), 0, wk);
                }

                public void publish(int p, int wk) {
                    System.arraycopy(pool.scratch(wk, ThreadPool.RESULT, n), 0, partial, p * n, n);
                }
            });
            for (int r = 0; r < n; r++) {
                float s = bias != null ? bias[r] : 0f;
                for (int p = 0; p < parts; p++) s += partial[p * n + r];
                out[r] = s;
            }
        }
    }

    static void check(float[] x, int seq, Weight w, float[] bias, float[] out) {
        if (seq < 1) throw new IllegalArgumentException("matmul: seq must be at least 1, not " + seq);
        long k = w.cols(), n = w.rows();
        if (x.length < seq * k)
            throw new IllegalArgumentException("matmul: x has " + x.length + " floats, [" + seq + ", " + k + "] needs " + seq * k);
        if (out.length < seq * n)
            throw new IllegalArgumentException("matmul: out has " + out.length + " floats, [" + seq + ", " + n + "] needs " + seq * n);
        if (bias != null && bias.length < n)
            throw new IllegalArgumentException("matmul: bias has " + bias.length + " floats, the weight has " + n + " rows");
    }
}
