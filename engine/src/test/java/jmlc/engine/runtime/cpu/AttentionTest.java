package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link Attention} against {@link Reference#attention}: f32 and f16 caches, GQA ratios 1, 4, 8,
 * seq 1 (decode), 3 and 17 (prefill), first position 0 and past it, pools of 1 to 3 threads.
 * Both read the same cache contents. Tolerance 1e-5: float dot products and sums, and the vector
 * {@code EXP}, against double.
 */
class AttentionTest {
    static final ThreadPool[] POOLS = {new ThreadPool(1), new ThreadPool(2), new ThreadPool(3)};

    @AfterAll
    static void close() {
        for (ThreadPool p : POOLS) p.close();
    }

    @Test
    void causalGroupedQueryAttention() {
        for (DType t : new DType[] {DType.F32, DType.F16})
            for (int[] hk : new int[][] {{4, 4}, {8, 2}, {8, 1}, {32, 4}})
                for (int hd : new int[] {64, 24})
                    for (int seq : new int[] {1, 3, 17})
                        for (int pos : new int[] {0, 7, 100}) {
                            int nHeads = hk[0], nKv = hk[1], ctx = 128;
                            if (pos + seq > ctx) continue;
                            SplittableRandom r = Check.random("attn" + t + nHeads + nKv + hd + seq + pos);
                            try (Arena arena = Arena.ofShared()) {
                                KvCache k = KvCache.allocate(arena, t, nKv, ctx, hd), v = KvCache.allocate(arena, t, nKv, ctx, hd);
                                k.append(Check.gaussian(r, (pos + seq) * nKv * hd, 1), pos + seq, 0);
                                v.append(Check.gaussian(r, (pos + seq) * nKv * hd, 1), pos + seq, 0);
                                float[] q = Check.gaussian(r, seq * nHeads * hd, 1), ref = new float[seq * nHeads * hd];
                                float scale = (float) (1 / Math.sqrt(hd));
                                Reference.attention(q, seq, k, v, pos, nHeads, scale, ref);
                                for (ThreadPool pool : POOLS) {
                                    float[] out = Check.poisoned(seq * nHeads * hd);
                                    Attention.attention(pool, q, seq, k, v, pos, nHeads, scale, out);
                                    Check.close("attention " + t + " H " + nHeads + " nKv " + nKv + " hd " + hd + " seq " + seq + " pos " + pos
                                            + " threads " + pool.threads(), out, ref, seq * nHeads * hd, 1e-5);
                                }
                            }
                        }
    }

    /**
     * Scores far apart (scale 30): exp would overflow without subtracting the maximum. Tolerance 1e-4,
     * not 1e-5: a score here is about 30 · 50 = 1500, and its f32 dot product of 32 products of about 9
     * carries about 3e-6 of rounding, 1e-4 after the scale; that moves the softmax weights by up to
     * 1e-4 relative. Over 3000 seeds the output's error reached 4.2e-5, and 1.8% of seeds passed 1e-5 (so
     * 1e-5 failed CI now and then). An overflow gives inf or NaN, which fails outright.
     */
    @Test
    void largeScoresStayFinite() {
        SplittableRandom r = Check.random("attn-large");
        try (Arena arena = Arena.ofShared()) {
            int nKv = 2, hd = 32, ctx = 50, nHeads = 4, seq = 5, pos = 20;
            KvCache k = KvCache.allocate(arena, DType.F32, nKv, ctx, hd), v = KvCache.allocate(arena, DType.F32, nKv, ctx, hd);
            k.append(Check.gaussian(r, (pos + seq) * nKv * hd, 3), pos + seq, 0);
            v.append(Check.gaussian(r, (pos + seq) * nKv * hd, 1), pos + seq, 0);
            float[] q = Check.gaussian(r, seq * nHeads * hd, 3), ref = new float[seq * nHeads * hd], out = Check.poisoned(seq * nHeads * hd);
            Reference.attention(q, seq, k, v, pos, nHeads, 30f, ref);
            Attention.attention(POOLS[1], q, seq, k, v, pos, nHeads, 30f, out);
            Check.close("attention, large scores", out, ref, seq * nHeads * hd, 1e-4);
        }
    }

    @Test
    void mismatchedHeadsAreAnError() {
        try (Arena arena = Arena.ofShared()) {
            KvCache k = KvCache.allocate(arena, DType.F32, 3, 8, 4), v = KvCache.allocate(arena, DType.F32, 3, 8, 4);
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(POOLS[0], new float[16], 1, k, v, 0, 4, 1f, new float[16]));
            assertThrows(IllegalArgumentException.class, () -> Attention.attention(POOLS[0], new float[12], 1, k, v, 8, 3, 1f, new float[12]));
        }
    }
}
