package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static jmlc.engine.runtime.cpu.Simd.F;
import static jmlc.engine.runtime.cpu.Simd.I;
import static jmlc.engine.runtime.cpu.Simd.L;
import static jmlc.engine.runtime.cpu.Simd.LE;
import static jmlc.engine.runtime.cpu.Simd.S;

/**
 * {@code out[n] = Σ_k x[k] · w[n, k]} for a dense f32, f16 or bf16 weight. f16 and bf16 widen
 * with bit operations ({@link Simd#halfToFloat}, {@link Simd#bf16ToFloat}). Four rows a quarter of
 * the range apart share each load of x (see {@link Q4Gemv} for why not adjacent rows). The unit of
 * split-K is a chunk of {@code 32L} columns; columns past the last whole vector are done in scalar.
 */
final class DenseGemv {
    private DenseGemv() {}

    static final int CHUNK = 32 * L;

    static int chunks(int cols) {
        return (cols + CHUNK - 1) / CHUNK;
    }

    /** {@code out[outOff + r] = Σ x·w[r, :]} over chunks {@code [c0, c1)}, rows {@code [r0, r1)}. */
    static void rows(Weight.Dense w, float[] x, int xOff, int r0, int r1, int c0, int c1, float[] out, int outOff) {
        int cols = w.cols();
        int k0 = c0 * CHUNK, k1 = Math.min(cols, c1 * CHUNK);
        int kFull = k0 + (k1 - k0) / L * L;                      // [k0, kFull) in whole vectors
        int quarter = (r1 - r0) / 4;
        for (int i = 0; i < quarter; i++) fourRows(w, x, xOff, r0 + i, quarter, k0, kFull, out, outOff);
        for (int r = r0 + 4 * quarter; r < r1; r++) fourRows(w, x, xOff, r, 0, k0, kFull, out, outOff);   // one row, four times
        if (kFull < k1)                                          // fewer than L columns left: scalar
            for (int r = r0; r < r1; r++) {
                float sum = 0;
                for (int c = kFull; c < k1; c++) sum += w.get(r, c) * x[xOff + c];
                out[outOff + r] += sum;
            }
    }

    /*
     * One 4-row kernel per element type, each calling the Vector API only (the rule in Simd): the
     * f16 and bf16 widening is written out. Rows left over after the quarters run as four copies
     * of one row (d = 0): the repeats hit L1, and no separate 1-row kernel is needed.
     */

    private static void fourRows(Weight.Dense w, float[] x, int xOff, int r, int d, int k0, int k1, float[] out, int outOff) {
        switch (w.dtype()) {
            case F32 -> fourRowsF32(w.data(), w.cols(), x, xOff, r, d, k0, k1, out, outOff);
            case F16 -> fourRowsF16(w.data(), w.cols(), x, xOff, r, d, k0, k1, out, outOff);
            case BF16 -> fourRowsBF16(w.data(), w.cols(), x, xOff, r, d, k0, k1, out, outOff);
            default -> throw new AssertionError(w.dtype());
        }
    }

    private static void fourRowsF32(MemorySegment m, long cols, float[] x, int xOff, int r, int d, int k0, int k1, float[] out, int outOff) {
        long b0 = r * cols * 4, bd = d * cols * 4;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int k = k0; k < k1; k += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + k);
            long o = b0 + 4L * k;
            a0 = FloatVector.fromMemorySegment(F, m, o, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, m, o + bd, LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, m, o + 2 * bd, LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, m, o + 3 * bd, LE).fma(xv, a3);
        }
        out[outOff + r] = a0.reduceLanes(VectorOperators.ADD);
        out[outOff + r + d] = a1.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 2 * d] = a2.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 3 * d] = a3.reduceLanes(VectorOperators.ADD);
    }

    /** f16 widened as in {@link Simd#halfToFloat}: sign-extend, shift into place, clear the sign copies, rebias by 2^112. */
    private static void fourRowsF16(MemorySegment m, long cols, float[] x, int xOff, int r, int d, int k0, int k1, float[] out, int outOff) {
        long b0 = r * cols * 2, bd = d * cols * 2;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int k = k0; k < k1; k += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + k);
            long o = b0 + 2L * k;
            a0 = ((IntVector) ShortVector.fromMemorySegment(S, m, o, LE).castShape(I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f).fma(xv, a0);
            a1 = ((IntVector) ShortVector.fromMemorySegment(S, m, o + bd, LE).castShape(I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f).fma(xv, a1);
            a2 = ((IntVector) ShortVector.fromMemorySegment(S, m, o + 2 * bd, LE).castShape(I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f).fma(xv, a2);
            a3 = ((IntVector) ShortVector.fromMemorySegment(S, m, o + 3 * bd, LE).castShape(I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f).fma(xv, a3);
        }
        out[outOff + r] = a0.reduceLanes(VectorOperators.ADD);
        out[outOff + r + d] = a1.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 2 * d] = a2.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 3 * d] = a3.reduceLanes(VectorOperators.ADD);
    }

    /** bf16 widened: the bits are the top half of an f32. */
    private static void fourRowsBF16(MemorySegment m, long cols, float[] x, int xOff, int r, int d, int k0, int k1, float[] out, int outOff) {
        long b0 = r * cols * 2, bd = d * cols * 2;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int k = k0; k < k1; k += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + k);
            long o = b0 + 2L * k;
            a0 = ((IntVector) ShortVector.fromMemorySegment(S, m, o, LE).castShape(I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, a0);
            a1 = ((IntVector) ShortVector.fromMemorySegment(S, m, o + bd, LE).castShape(I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, a1);
            a2 = ((IntVector) ShortVector.fromMemorySegment(S, m, o + 2 * bd, LE).castShape(I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, a2);
            a3 = ((IntVector) ShortVector.fromMemorySegment(S, m, o + 3 * bd, LE).castShape(I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, a3);
        }
        out[outOff + r] = a0.reduceLanes(VectorOperators.ADD);
        out[outOff + r + d] = a1.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 2 * d] = a2.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 3 * d] = a3.reduceLanes(VectorOperators.ADD);
    }

    /** Row {@code r} as floats into {@code out[off .. off+cols)}. */
    static void decodeRow(Weight.Dense w, int r, float[] out, int off) {
        int cols = w.cols();
        long i0 = (long) r * cols;
        switch (w.dtype()) {
            case F32 -> Simd.f32ToFloat(w.data(), i0 * 4, out, off, cols);
            case F16 -> Simd.halfToFloat(w.data(), i0 * 2, out, off, cols);
            case BF16 -> Simd.bf16ToFloat(w.data(), i0 * 2, out, off, cols);
            default -> throw new AssertionError(w.dtype());
        }
    }
}
