package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.quant.GroupQuantizer;

import java.lang.foreign.MemorySegment;

import static jmlc.engine.runtime.cpu.Simd.B;
import static jmlc.engine.runtime.cpu.Simd.F;
import static jmlc.engine.runtime.cpu.Simd.L;
import static jmlc.engine.runtime.cpu.Simd.LE;

/**
 * {@code out[n] = Σ_k x[k] · w[n, k]} for an 8-bit weight with groups of 32 ({@code q8f16}, GGUF
 * Q8_0): {@code i8[rows, cols]} holding {@code q − zero} (zero is 0), f16 or f32 scales.
 *
 * <p>A block is {@code L} bytes, sign-extended and converted to {@code L} floats; a group spans
 * {@code 32/L} blocks whose products add into one partial vector, multiplied once by the group's
 * scale, converted to float beforehand for the rows in flight and broadcast from there. A superblock
 * ({@code L} groups, {@code 32L} columns) is the unit of split-K. Like {@link Q4Gemv}, four rows a
 * quarter of the range apart share each load of x.
 */
final class Q8Gemv {
    private Q8Gemv() {}

    static final int SUPER = 32 * L;
    private static final int BLOCKS_PER_GROUP = 32 / L;

    /** True where this kernel applies: 8-bit, groups of 32, zero point 0, and {@code L} divides 32. */
    static boolean supports(QuantScheme s) {
        return s.bits() == 8 && s.groupSize() == 32 && s.zero() == 0 && 32 % L == 0;
    }

    static int superblocks(int cols) {
        return (cols + SUPER - 1) / SUPER;
    }

    /** Floats of scratch {@link #rows} needs: four rows of scales. */
    static int scratchLength(int cols) {
        return 4 * superblocks(cols) * L;
    }

    /**
     * {@code out[outOff + r] = Σ x·w[r, :]} over superblocks {@code [sb0, sb1)}, rows {@code [r0, r1)};
     * {@code scratch} holds at least {@link #scratchLength} floats.
     */
    static void rows(Weight.Quantized w, float[] x, int xOff, int r0, int r1, int sb0, int sb1, float[] out, int outOff, float[] scratch) {
        int fullSb = Math.max(sb0, Math.min(sb1, w.cols() / SUPER));
        boolean f16 = w.scheme().scaleType() == DType.F16;
        int n = (fullSb - sb0) * L;                                   // scales per row
        int quarter = (r1 - r0) / 4;
        for (int i = 0; i < quarter; i++) {
            for (int k = 0; k < 4; k++) floatScales(w, r0 + i + k * quarter, sb0 * L, n, scratch, k * n);
            fourRows(w, x, xOff, r0 + i, quarter, sb0, fullSb, scratch, n, out, outOff);
        }
        for (int r = r0 + 4 * quarter; r < r1; r++) out[outOff + r] = tailRow(w, x, xOff, r, sb0, fullSb, f16);
        if (fullSb < sb1)
            for (int r = r0; r < r1; r++) out[outOff + r] += tailRow(w, x, xOff, r, fullSb, sb1, f16);
    }

    /**
     * Scales {@code [g0, g0+n)} of row {@code r} as floats into {@code dst[off ..]}: a pre-pass, so
     * that the hot loop broadcasts each group's scale with one load (see {@link Q4Gemv}'s
     * {@code expandScales} for why the conversions stay out of it).
     */
    private static void floatScales(Weight.Quantized w, int r, int g0, int n, float[] dst, int off) {
        long si = (long) r * (w.cols() / 32) + g0;
        if (w.scheme().scaleType() == DType.F16) Simd.halfToFloat(w.scales(), si * 2, dst, off, n);
        else Simd.f32ToFloat(w.scales(), si * 4, dst, off, n);
    }

    /**
     * Whole superblocks {@code [sb0, sb1)} of rows {@code r, r+d, r+2d, r+3d}, scales at
     * {@code scales[k·n ..]}; stores the four sums. Vector API calls only (see the note in
     * {@link Q4Gemv} on helper calls in hot loops).
     */
    private static void fourRows(Weight.Quantized w, float[] x, int xOff, int r, int d, int sb0, int sb1, float[] scales, int n, float[] out, int outOff) {
        MemorySegment data = w.data();
        long rowBytes = w.cols();
        long wo = r * rowBytes, wd = d * rowBytes;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int g = sb0 * L; g < sb1 * L; g++) {
            FloatVector p0 = FloatVector.zero(F), p1 = p0, p2 = p0, p3 = p0;
            for (int b = 0; b < BLOCKS_PER_GROUP; b++) {
                int c = g * 32 + b * L;
                FloatVector xv = FloatVector.fromArray(F, x, xOff + c);
                long o = wo + c;
                p0 = ((FloatVector) ByteVector.fromMemorySegment(B, data, o, LE).castShape(F, 0)).fma(xv, p0);
                p1 = ((FloatVector) ByteVector.fromMemorySegment(B, data, o + wd, LE).castShape(F, 0)).fma(xv, p1);
                p2 = ((FloatVector) ByteVector.fromMemorySegment(B, data, o + 2 * wd, LE).castShape(F, 0)).fma(xv, p2);
                p3 = ((FloatVector) ByteVector.fromMemorySegment(B, data, o + 3 * wd, LE).castShape(F, 0)).fma(xv, p3);
            }
            int s = g - sb0 * L;
            acc0 = p0.fma(FloatVector.broadcast(F, scales[s]), acc0);
            acc1 = p1.fma(FloatVector.broadcast(F, scales[n + s]), acc1);
            acc2 = p2.fma(FloatVector.broadcast(F, scales[2 * n + s]), acc2);
            acc3 = p3.fma(FloatVector.broadcast(F, scales[3 * n + s]), acc3);
        }
        out[outOff + r] = acc0.reduceLanes(VectorOperators.ADD);
        out[outOff + r + d] = acc1.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 2 * d] = acc2.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 3 * d] = acc3.reduceLanes(VectorOperators.ADD);
    }

    /** Superblocks {@code [sb0, sb1)} of row {@code r} (groups past the row's end skipped); returns the sum. Cold. */
    private static float tailRow(Weight.Quantized w, float[] x, int xOff, int r, int sb0, int sb1, boolean f16) {
        int cols = w.cols(), groups = cols / 32;
        long wo = (long) r * cols;
        FloatVector acc = FloatVector.zero(F);
        for (int g = sb0 * L; g < Math.min(groups, sb1 * L); g++) {
            FloatVector p = FloatVector.zero(F);
            for (int b = 0; b < BLOCKS_PER_GROUP; b++) {
                int c = g * 32 + b * L;
                p = ((FloatVector) ByteVector.fromMemorySegment(B, w.data(), wo + c, LE).castShape(F, 0)).fma(FloatVector.fromArray(F, x, xOff + c), p);
            }
            acc = p.fma(FloatVector.broadcast(F, GroupQuantizer.scale(w.scheme(), w.scales(), (long) r * groups + g)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Dequantizes row {@code r} into {@code out[off .. off+cols)} (natural column order), a group at a time. */
    static void decodeRow(Weight.Quantized w, int r, float[] out, int off) {
        int cols = w.cols(), groups = cols / 32;
        long wo = (long) r * cols;
        for (int g = 0; g < groups; g++) {
            FloatVector s = FloatVector.broadcast(F, GroupQuantizer.scale(w.scheme(), w.scales(), (long) r * groups + g));
            for (int b = 0; b < BLOCKS_PER_GROUP; b++) {
                int c = g * 32 + b * L;
                ((FloatVector) ByteVector.fromMemorySegment(B, w.data(), wo + c, LE).castShape(F, 0)).mul(s).intoArray(out, off + c);
            }
        }
    }
}
