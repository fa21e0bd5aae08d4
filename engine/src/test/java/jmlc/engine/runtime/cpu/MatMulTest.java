package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.QuantScheme;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link MatMul} against {@link Reference#matmul} for every weight kind, GEMV (seq 1) and prefill
 * (seq 3, 17), on pools of 1, 2 and 3 threads, with shapes that exercise tails (columns not a
 * multiple of a superblock, rows not a multiple of 4) and split-K (few rows).
 *
 * <p>Tolerance: per element, the float rounding scale of a dot product ({@link #roundingScale});
 * a relative norm over a single output (1-row shapes) is ill-conditioned by cancellation. The
 * large real shapes also keep the 1e-5 relative-norm check. Both sides use the same dequantized
 * weights.
 */
class MatMulTest {
    static final Arena ARENA = Arena.ofShared();
    static final ThreadPool[] POOLS = {new ThreadPool(1), new ThreadPool(2), new ThreadPool(3)};

    @AfterAll
    static void close() {
        for (ThreadPool p : POOLS) p.close();
    }

    /** Every stored format: dense, the named schemes, f32 scales, and group sizes without a fast path. */
    static List<String> kinds() {
        return List.of("f32", "f16", "bf16", "q4f16_1", "q4f32_1", "gguf_q4_0", "q8f16", "q8f32", "q4g64", "q4g8", "q8g64z3");
    }

    static QuantScheme scheme(String kind) {
        return switch (kind) {
            case "q4f16_1" -> QuantScheme.Q4F16_1;
            case "q4f32_1" -> QuantScheme.Q4F32_1;
            case "gguf_q4_0" -> QuantScheme.GGUF_Q4_0;
            case "q8f16" -> QuantScheme.Q8F16;
            case "q8f32" -> new QuantScheme(8, 32, DType.F32, 0);
            case "q4g64" -> new QuantScheme(4, 64, DType.F16, 7);
            case "q4g8" -> new QuantScheme(4, 8, DType.F32, 8);
            case "q8g64z3" -> new QuantScheme(8, 64, DType.F16, 3);
            default -> null;
        };
    }

    static Weight weight(String kind, float[] w, int rows, int cols) {
        return switch (kind) {
            case "f32" -> Weight.dense(ARENA, DType.F32, w, rows, cols);
            case "f16" -> Weight.dense(ARENA, DType.F16, w, rows, cols);
            case "bf16" -> Weight.dense(ARENA, DType.BF16, w, rows, cols);
            default -> Weight.quantize(ARENA, scheme(kind), w, rows, cols);
        };
    }

    /** (rows, cols): tiny, odd rows, a partial superblock, whole superblocks, few rows (split-K), many rows. */
    static final int[][] SHAPES = {{1, 64}, {5, 192}, {7, 1088}, {13, 2048}, {67, 544}, {130, 4160}, {257, 1024}};

    @Test
    void everyKindShapeSeqAndPool() {
        int cases = 0;
        for (String kind : kinds()) {
            for (int[] shape : SHAPES) {
                int rows = shape[0], cols = shape[1];
                if (scheme(kind) != null && cols % scheme(kind).groupSize() != 0) continue;
                SplittableRandom r = Check.random(kind + rows + "x" + cols);
                Weight w = weight(kind, Check.gaussian(r, rows * cols, 0.05), rows, cols);
                float[] bias = r.nextBoolean() ? Check.gaussian(r, rows, 0.1) : null;
                for (int seq : new int[] {1, 3, 17}) {
                    float[] x = Check.gaussian(r, seq * cols, 1);
                    float[] ref = new float[seq * rows];
                    Reference.matmul(x, seq, w, bias, ref);
                    double[] scale = roundingScale(x, seq, w, bias);
                    for (ThreadPool pool : POOLS) {
                        float[] out = Check.poisoned(seq * rows);
                        MatMul.matmul(pool, x, seq, w, bias, out);
                        Check.closeScaled(kind + " [" + rows + ", " + cols + "] seq " + seq + " threads " + pool.threads() + (bias != null ? " +bias" : ""),
                                out, ref, scale, seq * rows);
                        cases++;
                    }
                }
            }
        }
        assertTrue(cases > 100, "only " + cases + " cases ran");
    }

    /**
     * Per-element tolerance {@code u · √K · (Σ_k |x[s, k]·w[n, k]| + |bias[n]|)}, u = 2^-24: the
     * typical size of float rounding in a dot product of K terms (the worst case is K·u). The
     * reference sums in double; the kernels sum in float, in vector lanes and per-block partial
     * sums, the 4-bit path subtracting the zero point as z·Σx. Measured worst over all kinds and
     * shapes: 0.14 of this bound.
     */
    static double[] roundingScale(float[] x, int seq, Weight w, float[] bias) {
        int n = w.rows(), k = w.cols();
        double[] s = new double[seq * n];
        for (int r = 0; r < n; r++) {
            float[] row = Reference.row(w, r);
            for (int t = 0; t < seq; t++) {
                double a = bias != null ? Math.abs(bias[r]) : 0;
                for (int c = 0; c < k; c++) a += Math.abs((double) x[t * k + c] * row[c]);
                s[t * n + r] = 0x1p-24 * Math.sqrt(k) * a;
            }
        }
        return s;
    }

    /** The real decode shape of TinyLlama's fused qkv in q4f16_1, and its down projection's K = 5632 (11 superblocks). */
    @Test
    void realDecodeShapes() {
        for (int[] shape : new int[][] {{2560, 2048}, {256, 5632}}) {
            int rows = shape[0], cols = shape[1];
            SplittableRandom r = Check.random("real" + rows);
            Weight w = weight("q4f16_1", Check.gaussian(r, rows * cols, 0.02), rows, cols);
            float[] x = Check.gaussian(r, cols, 1), ref = new float[rows], out = Check.poisoned(rows);
            Reference.matmul(x, 1, w, null, ref);
            MatMul.matmul(POOLS[1], x, 1, w, null, out);
            Check.close("q4f16_1 [" + rows + ", " + cols + "]", out, ref, rows, 1e-5);
        }
    }

    @Test
    void badShapesAreRejectedWithTheirSizes() {
        Weight w = weight("q4f16_1", new float[4 * 64], 4, 64);
        var e = assertThrows(IllegalArgumentException.class, () -> MatMul.matmul(POOLS[0], new float[63], 1, w, null, new float[4]));
        assertTrue(e.getMessage().contains("63"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MatMul.matmul(POOLS[0], new float[64], 1, w, null, new float[3]));
        assertThrows(IllegalArgumentException.class, () -> MatMul.matmul(POOLS[0], new float[64], 0, w, null, new float[4]));
        assertThrows(IllegalArgumentException.class, () -> MatMul.matmul(POOLS[0], new float[64], 1, w, new float[2], new float[4]));
    }

    /** The helper lists are what the test claims to cover. */
    @Test
    void kindsCoverAllWeightFormats() {
        List<String> quantized = new ArrayList<>();
        for (String k : kinds()) if (scheme(k) != null) quantized.add(k);
        assertTrue(quantized.size() >= 7 && kinds().containsAll(List.of("f32", "f16", "bf16")));
    }
}
