package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.RopeSpec;

import static jmlc.engine.runtime.cpu.Simd.F;
import static jmlc.engine.runtime.cpu.Simd.L;

/**
 * Rotary position embedding ({@link Op.Rope}) and its fusion with the KV-cache append
 * ({@link Op.RopeKvAppend}), with cos/sin tables for positions {@code [0, maxPositions)} computed
 * once in double and stored as float.
 *
 * <p>Per position the tables hold, for every element {@code i} of a head,
 * {@code out[i] = x[i]·cos[i] + x[partner(i)]·sin[i]} with the sign folded into {@code sin}:
 * {@link RopeSpec.Style#HALF} pairs {@code i} with {@code i ± hd/2} (a contiguous vector when
 * {@code hd/2} is a multiple of {@code L}), {@link RopeSpec.Style#INTERLEAVED} pairs {@code 2i} with
 * {@code 2i+1} (a lane swap within a vector). Elements no vector covers take the scalar pair loop.
 */
public final class Rope {

    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(F, i -> i ^ 1);

    private final RopeSpec spec;
    private final int maxPositions;
    private final float[] cos, sin;                           // [maxPositions, headDim]

    public Rope(RopeSpec spec, int maxPositions) {
        if (maxPositions <= 0) throw new IllegalArgumentException("rope table needs a positive number of positions, not " + maxPositions);
        this.spec = spec;
        this.maxPositions = maxPositions;
        int hd = spec.headDim();
        double[] inv = spec.invFreq();
        cos = new float[maxPositions * hd];
        sin = new float[maxPositions * hd];
        for (int p = 0; p < maxPositions; p++)
            for (int i = 0; i < hd / 2; i++) {
                double angle = p * inv[i], c = Math.cos(angle), s = Math.sin(angle);
                int a = p * hd + spec.first(i), b = p * hd + spec.second(i);
                cos[a] = (float) c;
                cos[b] = (float) c;
                sin[a] = (float) -s;
                sin[b] = (float) s;
            }
    }

    public RopeSpec spec() {
        return spec;
    }

    public int maxPositions() {
        return maxPositions;
    }

    /** Rotates every head of {@code x [seq, cols]} at positions {@code pos + s} into {@code out} (may be {@code x}). */
    public void apply(float[] x, int seq, int cols, int pos, float[] out) {
        int hd = spec.headDim();
        if (cols % hd != 0) throw new IllegalArgumentException("rope: " + cols + " columns are not whole heads of " + hd);
        checkPositions(seq, pos);
        Elementwise.check("rope", (long) seq * cols, x, out);
        if (!Simd.ENABLED) {
            Reference.rope(spec, x, seq, cols, pos, out);
            return;
        }
        for (int s = 0; s < seq; s++)
            for (int h = 0; h < cols / hd; h++) head(x, s * cols + h * hd, pos + s, out, s * cols + h * hd);
    }

    /**
     * {@link Op.RopeKvAppend}: for {@code qkv [seq, (H + 2·nKv)·hd]}, rotated q heads to
     * {@code qOut [seq, H·hd]}, rotated k heads to {@code k}, v heads unchanged to {@code v}, at
     * positions {@code pos + s}.
     */
    public void applyAndAppend(float[] qkv, int seq, int nHeads, int nKv, int pos, float[] qOut, KvCache k, KvCache v) {
        int hd = spec.headDim(), row = (nHeads + 2 * nKv) * hd;
        if (k.headDim() != hd || v.headDim() != hd || k.nKv() != nKv || v.nKv() != nKv)
            throw new IllegalArgumentException("rope_kv_append: caches " + k + " and " + v + " do not hold " + nKv + " heads of " + hd);
        checkPositions(seq, pos);
        k.checkAppend(seq, pos, qkv.length, row, "qkv");
        v.checkAppend(seq, pos, qkv.length, row, "qkv");
        Elementwise.check("rope_kv_append", (long) seq * nHeads * hd, qOut);
        if (!Simd.ENABLED) {
            Reference.ropeKvAppend(spec, qkv, seq, nHeads, nKv, pos, qOut, k, v);
            return;
        }
        float[] kRow = new float[hd];
        for (int s = 0; s < seq; s++) {
            int p = pos + s, base = s * row;
            for (int h = 0; h < nHeads; h++) head(qkv, base + h * hd, p, qOut, (s * nHeads + h) * hd);
            for (int h = 0; h < nKv; h++) {
                head(qkv, base + (nHeads + h) * hd, p, kRow, 0);
                k.put(h, p, kRow, 0);
                v.put(h, p, qkv, base + (nHeads + nKv + h) * hd);
            }
        }
    }

    /** One head of {@code hd} values at {@code x[xo ..]}, position {@code p}, into {@code out[oo ..]}. */
    private void head(float[] x, int xo, int p, float[] out, int oo) {
        int hd = spec.headDim(), half = hd / 2, t = p * hd, done;
        if (spec.style() == RopeSpec.Style.HALF) {
            done = half % L == 0 ? half : 0;                  // pairs [0, done) vectorized
            for (int i = 0; i < done; i += L) {
                FloatVector a = FloatVector.fromArray(F, x, xo + i), b = FloatVector.fromArray(F, x, xo + half + i);
                FloatVector c = FloatVector.fromArray(F, cos, t + i), sn = FloatVector.fromArray(F, sin, t + half + i);
                a.mul(c).sub(b.mul(sn)).intoArray(out, oo + i);
                b.mul(c).add(a.mul(sn)).intoArray(out, oo + half + i);
            }
        } else {
            int i = 0;
            for (; i + L <= hd; i += L) {
                FloatVector a = FloatVector.fromArray(F, x, xo + i);
                a.mul(FloatVector.fromArray(F, cos, t + i))
                        .add(a.rearrange(SWAP_PAIRS).mul(FloatVector.fromArray(F, sin, t + i))).intoArray(out, oo + i);
            }
            done = i / 2;                                     // pairs [0, done) vectorized
        }
        for (int i = done; i < half; i++) {
            int a = spec.first(i), b = spec.second(i);
            float xa = x[xo + a], xb = x[xo + b], c = cos[t + a], sn = sin[t + b];
            out[oo + a] = xa * c - xb * sn;
            out[oo + b] = xb * c + xa * sn;
        }
    }

    private void checkPositions(int seq, int pos) {
        if (seq < 1 || pos < 0 || (long) pos + seq > maxPositions)
            throw new IllegalArgumentException("rope: positions " + pos + " .. " + (pos + seq - 1) + " are outside the table of " + maxPositions);
    }
}
