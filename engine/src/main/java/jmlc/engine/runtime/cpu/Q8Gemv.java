package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.QuantScheme;

import java.lang.foreign.MemorySegment;

import static jmlc.engine.runtime.cpu.Simd.B;
import static jmlc.engine.runtime.cpu.Simd.F;
import static jmlc.engine.runtime.cpu.Simd.L;
import static jmlc.engine.runtime.cpu.Simd.LE;
import static jmlc.engine.runtime.cpu.Simd.S;

/**
 * {@code out[n] = Σ_k x[k] · w[n, k]} for an 8-bit weight with groups of 32 ({@code q8f16}, GGUF
 * Q8_0): {@code i8[rows, cols]} holding {@code q − zero} (zero is 0), f16 or f32 scales.
 *
 * <p>A block is {@code L} bytes, sign-extended and converted to {@code L} floats; a group spans
 * {@code 32/L} blocks whose products add into one partial vector, multiplied once by the group's
 * scale. A superblock is {@code L} groups ({@code 32L} columns): one vector of scales, each group's
 * broadcast to all lanes by one rearrange. Like {@link Q4Gemv}, four rows a quarter of the range
 * apart share each load of x.
 */
final class Q8Gemv {
    private Q8Gemv() {}

    static final int SUPER = 32 * L;
    private static final int BLOCKS_PER_GROUP = 32 / L;

    /** {@code BCAST[g]} broadcasts lane {@code g}. */
    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Float>[] BCAST = new VectorShuffle[L];
    static {
        for (int g = 0; g < L; g++) {
            int lane = g;
            BCAST[g] = VectorShuffle.fromOp(F, i -> lane);
        }
    }

    /** True where this kernel applies: 8-bit, groups of 32, zero point 0, and {@code L} divides 32. */
    static boolean supports(QuantScheme s) {
        return s.bits() == 8 && s.groupSize() == 32 && s.zero() == 0 && 32 % L == 0;
    }

    static int superblocks(int cols) {
        return (cols + SUPER - 1) / SUPER;
    }

    /** {@code out[outOff + r] = Σ x·w[r, :]} over superblocks {@code [sb0, sb1)}, rows {@code [r0, r1)}. */
    static void rows(Weight.Quantized w, float[] x, int xOff, int r0, int r1, int sb0, int sb1, float[] out, int outOff) {
        int fullSb = Math.max(sb0, Math.min(sb1, w.cols() / SUPER));
        boolean f16 = w.scheme().scaleType() == DType.F16;
        int quarter = (r1 - r0) / 4;
        for (int i = 0; i < quarter; i++) fourRows(w, x, xOff, r0 + i, quarter, sb0, fullSb, f16, out, outOff);
        for (int r = r0 + 4 * quarter; r < r1; r++) out[outOff + r] = tailRow(w, x, xOff, r, sb0, fullSb, f16);
        if (fullSb < sb1)
            for (int r = r0; r < r1; r++) out[outOff + r] += tailRow(w, x, xOff, r, fullSb, sb1, f16);
    }

    private static FloatVector scales(MemorySegment scales, long rowOff, int sb, boolean f16) {
        return f16 ? Simd.halfToFloat(scales, rowOff + (long) sb * L * 2)
                   : FloatVector.fromMemorySegment(F, scales, rowOff + (long) sb * L * 4, LE);
    }

    private static FloatVector bytes(MemorySegment data, long off) {
        return (FloatVector) ByteVector.fromMemorySegment(B, data, off, LE).castShape(F, 0);
    }

    /** Whole superblocks {@code [sb0, sb1)} of rows {@code r, r+d, r+2d, r+3d}; stores the four sums. */
    private static void fourRows(Weight.Quantized w, float[] x, int xOff, int r, int d, int sb0, int sb1, boolean f16, float[] out, int outOff) {
        MemorySegment data = w.data(), scales = w.scales();
        long rowBytes = w.cols(), rowScaleBytes = (long) (w.cols() / 32) * (f16 ? 2 : 4);
        long wo = r * rowBytes, wd = d * rowBytes, so = r * rowScaleBytes, sd = d * rowScaleBytes;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int sb = sb0; sb < sb1; sb++) {
            FloatVector sc0 = scales(scales, so, sb, f16), sc1 = scales(scales, so + sd, sb, f16);
            FloatVector sc2 = scales(scales, so + 2 * sd, sb, f16), sc3 = scales(scales, so + 3 * sd, sb, f16);
            for (int g = 0; g < L; g++) {
                FloatVector p0 = FloatVector.zero(F), p1 = p0, p2 = p0, p3 = p0;
                for (int b = 0; b < BLOCKS_PER_GROUP; b++) {
                    int c = sb * SUPER + g * 32 + b * L;
                    FloatVector xv = FloatVector.fromArray(F, x, xOff + c);
                    long o = wo + c;
                    p0 = bytes(data, o).fma(xv, p0);
                    p1 = bytes(data, o + wd).fma(xv, p1);
                    p2 = bytes(data, o + 2 * wd).fma(xv, p2);
                    p3 = bytes(data, o + 3 * wd).fma(xv, p3);
                }
                acc0 = p0.fma(sc0.rearrange(BCAST[g]), acc0);
                acc1 = p1.fma(sc1.rearrange(BCAST[g]), acc1);
                acc2 = p2.fma(sc2.rearrange(BCAST[g]), acc2);
                acc3 = p3.fma(sc3.rearrange(BCAST[g]), acc3);
            }
        }
        out[outOff + r] = acc0.reduceLanes(VectorOperators.ADD);
        out[outOff + r + d] = acc1.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 2 * d] = acc2.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 3 * d] = acc3.reduceLanes(VectorOperators.ADD);
    }

    /** Superblocks {@code [sb0, sb1)} of row {@code r}, with masked loads past the row's end; returns the sum. */
    private static float tailRow(Weight.Quantized w, float[] x, int xOff, int r, int sb0, int sb1, boolean f16) {
        int cols = w.cols(), groups = cols / 32;
        long wo = (long) r * cols, si = (long) r * groups;
        FloatVector acc = FloatVector.zero(F);
        for (int sb = sb0; sb < sb1; sb++) {
            int g0 = sb * L;
            FloatVector sc = f16 ? Simd.halfToFloat(w.scales(), (si + g0) * 2, S.indexInRange(g0, groups))
                                 : FloatVector.fromMemorySegment(F, w.scales(), (si + g0) * 4, LE, F.indexInRange(g0, groups));
            for (int g = 0; g < L && g0 + g < groups; g++) {
                FloatVector p = FloatVector.zero(F);
                for (int b = 0; b < BLOCKS_PER_GROUP; b++) {
                    int c = sb * SUPER + g * 32 + b * L;
                    p = bytes(w.data(), wo + c).fma(FloatVector.fromArray(F, x, xOff + c), p);
                }
                acc = p.fma(sc.rearrange(BCAST[g]), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Dequantizes row {@code r} into {@code out[off .. off+cols)} (natural column order). */
    static void decodeRow(Weight.Quantized w, int r, float[] out, int off) {
        int cols = w.cols(), groups = cols / 32;
        boolean f16 = w.scheme().scaleType() == DType.F16;
        long wo = (long) r * cols, si = (long) r * groups;
        for (int sb = 0; sb < superblocks(cols); sb++) {
            int g0 = sb * L;
            FloatVector sc = f16 ? Simd.halfToFloat(w.scales(), (si + g0) * 2, S.indexInRange(g0, groups))
                                 : FloatVector.fromMemorySegment(F, w.scales(), (si + g0) * 4, LE, F.indexInRange(g0, groups));
            for (int g = 0; g < L && g0 + g < groups; g++) {
                FloatVector s = sc.rearrange(BCAST[g]);
                for (int b = 0; b < BLOCKS_PER_GROUP; b++) {
                    int c = sb * SUPER + g * 32 + b * L;
                    bytes(w.data(), wo + c).mul(s).intoArray(out, off + c);
                }
            }
        }
    }
}
