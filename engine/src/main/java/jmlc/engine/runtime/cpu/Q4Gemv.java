package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.QuantScheme;

import java.lang.foreign.MemorySegment;

import static jmlc.engine.runtime.cpu.Simd.F;
import static jmlc.engine.runtime.cpu.Simd.I;
import static jmlc.engine.runtime.cpu.Simd.L;
import static jmlc.engine.runtime.cpu.Simd.LE;
import static jmlc.engine.runtime.cpu.Simd.S;

/**
 * The decode hot path: {@code out[n] = Σ_k x[k] · w[n, k]} for a 4-bit weight with groups of 32
 * ({@code q4f16_1}, {@code q4f32_1}, GGUF Q4_0): {@code u32[rows, cols/8]} words, f16 or f32 scales.
 *
 * <p><b>Permuted x.</b> A vector of {@code L} words ("block", {@code 8L} columns) holds, in lane
 * {@code i}, columns {@code 8i .. 8i+7}, nibble {@code j} being column {@code 8i+j}. Rather than
 * shuffle nibbles, {@link #prepare} permutes {@code x} once per call so that nibble {@code j} of
 * every lane meets one contiguous vector: {@code xq[j·L + i] = x[8i + j]}. Nibbles are taken in
 * place, 0-3 from the word and 4-7 from the word shifted right by 16: {@code h & (0xF << 4(j mod 4))}
 * has the integer value {@code q·2^4(j mod 4)}, and the prepared x carries the factor
 * {@code 2^-4(j mod 4)} (exact in floating point). One shift per word instead of one per nibble;
 * shifting the top half down also keeps every value positive as an int.
 *
 * <p><b>Zero point and scales.</b> {@code Σ (q − z)·x = Σ q·x − z·Σx}: the prepared block also holds
 * {@code −z · Σ_j x[8i + j]} per lane, which starts each lane's partial sum. A group is 4 words, so
 * lane {@code i} of block {@code t} of a superblock (4 blocks, {@code 32L} columns, {@code L}
 * groups) belongs to group {@code (t·L + i) / 4}: one vector of {@code L} scales serves a
 * superblock, spread over each block's lanes by one rearrange, and applied once per block.
 *
 * <p><b>Rows.</b> Four rows are computed together so that each load of x serves four; they are a
 * quarter of the row range apart, not adjacent: four interleaved streams inside one 4 KiB page
 * defeat the hardware prefetcher (measured: adjacent pairs ran at half the bandwidth of distant ones).
 *
 * <p>Prepared layout, per block {@code b} of {@code 9L} floats: 8 vectors of permuted, pre-scaled
 * x, then the zero-point term; zero-padded to whole superblocks, so a partial last superblock needs
 * only masked loads of words and scales.
 */
final class Q4Gemv {
    private Q4Gemv() {}

    /** Columns per block (one vector of words) and per superblock (one vector of scales). */
    static final int BLOCK = 8 * L, SUPER = 32 * L;
    private static final int BLOCK_FLOATS = 9 * L;

    /** {@code SH[t]} spreads a superblock's {@code L} scales over block {@code t}'s lanes: lane {@code i} gets group {@code (t·L + i) / 4}. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static final VectorShuffle<Float>[] SH = new VectorShuffle[] {groupShuffle(0), groupShuffle(1), groupShuffle(2), groupShuffle(3)};

    private static VectorShuffle<Float> groupShuffle(int t) {
        return VectorShuffle.fromOp(F, i -> (t * L + i) / 4);
    }

    /** True where this kernel applies: 4-bit, groups of 32, and a lane count that is a multiple of 4. */
    static boolean supports(QuantScheme s) {
        return s.bits() == 4 && s.groupSize() == 32 && L % 4 == 0;
    }

    /** Superblocks covering {@code cols} columns (the last one possibly partial): the unit of split-K. */
    static int superblocks(int cols) {
        return (cols + SUPER - 1) / SUPER;
    }

    /** Floats {@link #prepare} writes for {@code cols} columns. */
    static int preparedLength(int cols) {
        return superblocks(cols) * 4 * BLOCK_FLOATS;
    }

    /** {@code 2^-4(j mod 4)}: undoes the in-place position of nibble {@code j}. */
    private static final float[] NIBBLE_SCALE = {1f, 0x1p-4f, 0x1p-8f, 0x1p-12f, 1f, 0x1p-4f, 0x1p-8f, 0x1p-12f};

    /** Writes the permuted, pre-scaled {@code x[xOff .. xOff+cols)} and zero-point terms into {@code xq} (0.7 µs for 2048 columns, serial, before the run). */
    static void prepare(float[] x, int xOff, int cols, int zero, float[] xq) {
        int blocks = superblocks(cols) * 4;
        for (int b = 0; b < blocks; b++) {
            int base = b * BLOCK_FLOATS, col0 = b * BLOCK;
            for (int i = 0; i < L; i++) {
                int c = col0 + 8 * i;
                float sum = 0;
                if (c + 8 <= cols) {
                    for (int j = 0; j < 8; j++) {
                        float v = x[xOff + c + j];
                        sum += v;
                        xq[base + j * L + i] = v * NIBBLE_SCALE[j];
                    }
                } else {
                    for (int j = 0; j < 8; j++) xq[base + j * L + i] = 0f;   // padding (cols is a multiple of 8)
                }
                xq[base + 8 * L + i] = -zero * sum;
            }
        }
    }

    /**
     * {@code out[outOff + r] = Σ x·w[r, :]} over superblocks {@code [sb0, sb1)} for rows
     * {@code [r0, r1)}: the whole dot product when {@code sb0 = 0, sb1 = superblocks(cols)}, a
     * partial sum for split-K.
     */
    static void rows(Weight.Quantized w, float[] xq, int r0, int r1, int sb0, int sb1, float[] out, int outOff) {
        int words = w.cols() / 8;
        int fullSb = Math.max(sb0, Math.min(sb1, words / (4 * L)));   // [sb0, fullSb) have no tail
        boolean f16 = w.scheme().scaleType() == DType.F16;
        int quarter = (r1 - r0) / 4;
        for (int i = 0; i < quarter; i++) {
            if (f16) fourRowsF16(w, xq, r0 + i, quarter, sb0, fullSb, out, outOff);
            else fourRowsF32(w, xq, r0 + i, quarter, sb0, fullSb, out, outOff);
        }
        for (int r = r0 + 4 * quarter; r < r1; r++) {                  // leftover rows: one row, four times (repeats hit L1)
            if (f16) fourRowsF16(w, xq, r, 0, sb0, fullSb, out, outOff);
            else fourRowsF32(w, xq, r, 0, sb0, fullSb, out, outOff);
        }
        if (fullSb < sb1)
            for (int r = r0; r < r1; r++) out[outOff + r] += tail(w, xq, r, fullSb, sb1);
    }

    /*
     * The hot loops call the Vector API only (the rule in Simd: a helper call that C2 declines to
     * inline boxes every vector that crosses it; the 4-row kernel exhausts C2's inlining budget,
     * and the GEMV ran 30 times slower). The f16 and f32 scale variants are two methods rather
     * than one with a branch for the same reason: both conversions inline did not fit.
     */

    /** Whole superblocks {@code [sb0, sb1)} of rows {@code r, r+d, r+2d, r+3d}, f16 scales; stores the four sums. */
    private static void fourRowsF16(Weight.Quantized w, float[] xq, int r, int d, int sb0, int sb1, float[] out, int outOff) {
        MemorySegment data = w.data(), scales = w.scales();
        long rowBytes = (long) (w.cols() / 8) * 4, rowScaleBytes = (long) (w.cols() / 32) * 2;
        long wo = r * rowBytes, wd = d * rowBytes, so = r * rowScaleBytes, sd = d * rowScaleBytes;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int sb = sb0; sb < sb1; sb++) {
            long o = so + (long) sb * L * 2;
            // Simd.halfToFloat, written out: see the note above on calls in hot loops
            FloatVector sc0 = ((IntVector) ShortVector.fromMemorySegment(S, scales, o, LE).castShape(I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f);
            FloatVector sc1 = ((IntVector) ShortVector.fromMemorySegment(S, scales, o + sd, LE).castShape(I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f);
            FloatVector sc2 = ((IntVector) ShortVector.fromMemorySegment(S, scales, o + 2 * sd, LE).castShape(I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f);
            FloatVector sc3 = ((IntVector) ShortVector.fromMemorySegment(S, scales, o + 3 * sd, LE).castShape(I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f);
            for (int t = 0; t < 4; t++) {
                int b = sb * 4 + t;
                VectorShuffle<Float> sh = SH[t];
                long wb = wo + (long) b * 4 * L;
                IntVector w0 = IntVector.fromMemorySegment(I, data, wb, LE);
                IntVector w1 = IntVector.fromMemorySegment(I, data, wb + wd, LE);
                IntVector w2 = IntVector.fromMemorySegment(I, data, wb + 2 * wd, LE);
                IntVector w3 = IntVector.fromMemorySegment(I, data, wb + 3 * wd, LE);
                int xo = b * BLOCK_FLOATS;
                FloatVector p0 = FloatVector.fromArray(F, xq, xo + 8 * L), p1 = p0, p2 = p0, p3 = p0;
                for (int j = 0; j < 4; j++) {                   // nibbles 0-3, in place
                    FloatVector xv = FloatVector.fromArray(F, xq, xo + j * L);
                    int m = 0xF << (4 * j);
                    p0 = ((FloatVector) w0.and(m).castShape(F, 0)).fma(xv, p0);
                    p1 = ((FloatVector) w1.and(m).castShape(F, 0)).fma(xv, p1);
                    p2 = ((FloatVector) w2.and(m).castShape(F, 0)).fma(xv, p2);
                    p3 = ((FloatVector) w3.and(m).castShape(F, 0)).fma(xv, p3);
                }
                w0 = w0.lanewise(VectorOperators.LSHR, 16);
                w1 = w1.lanewise(VectorOperators.LSHR, 16);
                w2 = w2.lanewise(VectorOperators.LSHR, 16);
                w3 = w3.lanewise(VectorOperators.LSHR, 16);
                for (int j = 0; j < 4; j++) {                   // nibbles 4-7, in place in the top half shifted down
                    FloatVector xv = FloatVector.fromArray(F, xq, xo + (4 + j) * L);
                    int m = 0xF << (4 * j);
                    p0 = ((FloatVector) w0.and(m).castShape(F, 0)).fma(xv, p0);
                    p1 = ((FloatVector) w1.and(m).castShape(F, 0)).fma(xv, p1);
                    p2 = ((FloatVector) w2.and(m).castShape(F, 0)).fma(xv, p2);
                    p3 = ((FloatVector) w3.and(m).castShape(F, 0)).fma(xv, p3);
                }
                acc0 = p0.fma(sc0.rearrange(sh), acc0);
                acc1 = p1.fma(sc1.rearrange(sh), acc1);
                acc2 = p2.fma(sc2.rearrange(sh), acc2);
                acc3 = p3.fma(sc3.rearrange(sh), acc3);
            }
        }
        out[outOff + r] = acc0.reduceLanes(VectorOperators.ADD);
        out[outOff + r + d] = acc1.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 2 * d] = acc2.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 3 * d] = acc3.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #fourRowsF16} for f32 scales. */
    private static void fourRowsF32(Weight.Quantized w, float[] xq, int r, int d, int sb0, int sb1, float[] out, int outOff) {
        MemorySegment data = w.data(), scales = w.scales();
        long rowBytes = (long) (w.cols() / 8) * 4, rowScaleBytes = (long) (w.cols() / 32) * 4;
        long wo = r * rowBytes, wd = d * rowBytes, so = r * rowScaleBytes, sd = d * rowScaleBytes;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int sb = sb0; sb < sb1; sb++) {
            long o = so + (long) sb * L * 4;
            FloatVector sc0 = FloatVector.fromMemorySegment(F, scales, o, LE), sc1 = FloatVector.fromMemorySegment(F, scales, o + sd, LE);
            FloatVector sc2 = FloatVector.fromMemorySegment(F, scales, o + 2 * sd, LE), sc3 = FloatVector.fromMemorySegment(F, scales, o + 3 * sd, LE);
            for (int t = 0; t < 4; t++) {
                int b = sb * 4 + t;
                VectorShuffle<Float> sh = SH[t];
                long wb = wo + (long) b * 4 * L;
                IntVector w0 = IntVector.fromMemorySegment(I, data, wb, LE);
                IntVector w1 = IntVector.fromMemorySegment(I, data, wb + wd, LE);
                IntVector w2 = IntVector.fromMemorySegment(I, data, wb + 2 * wd, LE);
                IntVector w3 = IntVector.fromMemorySegment(I, data, wb + 3 * wd, LE);
                int xo = b * BLOCK_FLOATS;
                FloatVector p0 = FloatVector.fromArray(F, xq, xo + 8 * L), p1 = p0, p2 = p0, p3 = p0;
                for (int j = 0; j < 4; j++) {                   // nibbles 0-3, in place
                    FloatVector xv = FloatVector.fromArray(F, xq, xo + j * L);
                    int m = 0xF << (4 * j);
                    p0 = ((FloatVector) w0.and(m).castShape(F, 0)).fma(xv, p0);
                    p1 = ((FloatVector) w1.and(m).castShape(F, 0)).fma(xv, p1);
                    p2 = ((FloatVector) w2.and(m).castShape(F, 0)).fma(xv, p2);
                    p3 = ((FloatVector) w3.and(m).castShape(F, 0)).fma(xv, p3);
                }
                w0 = w0.lanewise(VectorOperators.LSHR, 16);
                w1 = w1.lanewise(VectorOperators.LSHR, 16);
                w2 = w2.lanewise(VectorOperators.LSHR, 16);
                w3 = w3.lanewise(VectorOperators.LSHR, 16);
                for (int j = 0; j < 4; j++) {                   // nibbles 4-7, in place in the top half shifted down
                    FloatVector xv = FloatVector.fromArray(F, xq, xo + (4 + j) * L);
                    int m = 0xF << (4 * j);
                    p0 = ((FloatVector) w0.and(m).castShape(F, 0)).fma(xv, p0);
                    p1 = ((FloatVector) w1.and(m).castShape(F, 0)).fma(xv, p1);
                    p2 = ((FloatVector) w2.and(m).castShape(F, 0)).fma(xv, p2);
                    p3 = ((FloatVector) w3.and(m).castShape(F, 0)).fma(xv, p3);
                }
                acc0 = p0.fma(sc0.rearrange(sh), acc0);
                acc1 = p1.fma(sc1.rearrange(sh), acc1);
                acc2 = p2.fma(sc2.rearrange(sh), acc2);
                acc3 = p3.fma(sc3.rearrange(sh), acc3);
            }
        }
        out[outOff + r] = acc0.reduceLanes(VectorOperators.ADD);
        out[outOff + r + d] = acc1.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 2 * d] = acc2.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 3 * d] = acc3.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Superblocks {@code [sb0, sb1)} of row {@code r} with a partial last one: masked loads of the
     * words and scales that exist (the prepared x is zero-padded). Cold: only column counts that are
     * not a multiple of {@link #SUPER} get here.
     */
    private static float tail(Weight.Quantized w, float[] xq, int r, int sb0, int sb1) {
        int words = w.cols() / 8, groups = w.cols() / 32, g0 = sb0 * L;
        float[] sc = new float[(sb1 - sb0) * L];
        long si = (long) r * groups + g0;
        if (w.scheme().scaleType() == DType.F16) Simd.halfToFloat(w.scales(), si * 2, sc, 0, groups - g0);
        else Simd.f32ToFloat(w.scales(), si * 4, sc, 0, groups - g0);
        long wordBase = (long) r * words * 4;
        FloatVector acc = FloatVector.zero(F);
        for (int b = sb0 * 4; b < sb1 * 4 && b * L < words; b++) {
            IntVector wv = IntVector.fromMemorySegment(I, w.data(), wordBase + b * L * 4L, LE, I.indexInRange(b * L, words));
            int xo = b * BLOCK_FLOATS;
            FloatVector p = FloatVector.fromArray(F, xq, xo + 8 * L);
            for (int half = 0; half < 2; half++) {
                IntVector h = wv.lanewise(VectorOperators.LSHR, 16 * half);
                for (int j = 0; j < 4; j++)
                    p = ((FloatVector) h.and(0xF << (4 * j)).castShape(F, 0)).fma(FloatVector.fromArray(F, xq, xo + (4 * half + j) * L), p);
            }
            acc = p.fma(FloatVector.fromArray(F, sc, (b / 4 - sb0) * L).rearrange(SH[b % 4]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    // ---- prefill: whole rows dequantized into a tile of floats, in the permuted column order ----

    /** Row stride of a decoded tile and of {@link #permute}d x: whole superblocks. */
    static int tileStride(int cols) {
        return superblocks(cols) * SUPER;
    }

    /** {@code xp[b·8L + j·L + i] = x[b·8L + 8i + j]} (no scaling, no zero term), zero-padded to {@link #tileStride}. */
    static void permute(float[] x, int xOff, int cols, float[] xp, int xpOff) {
        int stride = tileStride(cols);
        for (int b = 0; b < stride / BLOCK; b++)
            for (int j = 0; j < 8; j++)
                for (int i = 0; i < L; i++) {
                    int c = b * BLOCK + 8 * i + j;
                    xp[xpOff + b * BLOCK + j * L + i] = c < cols ? x[xOff + c] : 0f;
                }
    }

    /** Floats of scale scratch {@link #decodePermuted} needs. */
    static int scaleScratch(int cols) {
        return superblocks(cols) * L;
    }

    /**
     * Dequantizes row {@code r} into {@code tile[off .. off+tileStride)}, permuted like
     * {@link #permute}; padding is zero. {@code scales} is scratch of {@link #scaleScratch} floats.
     */
    static void decodePermuted(Weight.Quantized w, int r, float[] tile, int off, float[] scales) {
        int words = w.cols() / 8, groups = w.cols() / 32;
        float zero = w.scheme().zero();
        long si = (long) r * groups;
        if (w.scheme().scaleType() == DType.F16) Simd.halfToFloat(w.scales(), si * 2, scales, 0, groups);
        else Simd.f32ToFloat(w.scales(), si * 4, scales, 0, groups);
        java.util.Arrays.fill(scales, groups, scaleScratch(w.cols()), 0f);
        long wordBase = (long) r * words * 4;
        for (int b = 0; b < superblocks(w.cols()) * 4; b++) {
            int word0 = b * L;
            IntVector wv = IntVector.fromMemorySegment(I, w.data(), wordBase + word0 * 4L, LE, I.indexInRange(word0, words));
            FloatVector s = FloatVector.fromArray(F, scales, b / 4 * L).rearrange(SH[b % 4]);
            for (int j = 0; j < 8; j++) {
                FloatVector q = (FloatVector) wv.lanewise(VectorOperators.LSHR, 4 * j).and(0xF).castShape(F, 0);
                q.sub(zero).mul(s).intoArray(tile, off + word0 * 8 + j * L);
            }
        }
    }
}
