package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link KvCache#append} against {@link Reference#kvAppend}: identical bits; other positions untouched. */
class KvCacheTest {

    @Test
    void appendWritesExactlyTheNewPositions() {
        for (DType t : new DType[] {DType.F32, DType.F16, DType.I8})
            for (int[] shape : new int[][] {{1, 64}, {4, 64}, {8, 128}, {3, 6}})
                for (int seq : new int[] {1, 3, 17}) {
                    int nKv = shape[0], hd = shape[1], ctx = 32, pos = 32 - seq - 2;
                    SplittableRandom r = Check.random("kv" + t + nKv + hd + seq);
                    float[] x = Check.gaussian(r, seq * nKv * hd, 1);
                    try (Arena arena = Arena.ofShared()) {
                        KvCache c = KvCache.allocate(arena, t, nKv, ctx, hd), ref = KvCache.allocate(arena, t, nKv, ctx, hd);
                        c.data().fill((byte) 0x7f);                     // f32 NaN-ish / large f16: detects stray writes
                        ref.data().fill((byte) 0x7f);
                        c.append(x, seq, pos);
                        Reference.kvAppend(ref, x, seq, pos);
                        assertEquals(-1, c.data().mismatch(ref.data()), t + " nKv " + nKv + " hd " + hd + " seq " + seq + " [seed " + Check.SEED + "]");
                        float[] row = java.util.Arrays.copyOf(x, hd);
                        if (t == DType.I8) jmlc.compiler.quant.Int8KvCache.roundTrip(row, 0, hd);
                        float expect = t == DType.F16 ? jmlc.compiler.quant.Half.roundToHalf(x[0]) : row[0];
                        assertEquals(expect, c.get(0, pos, 0));
                        float[] back = new float[hd];
                        c.load(0, pos, back, 0);
                        if (t != DType.F16) assertEquals(-1, java.util.Arrays.mismatch(row, back), t + ": a row read back whole as element by element");
                    }
                }
    }

    /**
     * An int8 cache gives every value back within half a step of its group ({@code max|x| / 254},
     * plus the f16 rounding of the scale), zeros as zeros, and a group's largest magnitude as ±127 steps.
     */
    @Test
    void int8RowsComeBackWithinHalfAStep() {
        SplittableRandom r = Check.random("kv-int8");
        for (int hd : new int[] {6, 32, 64, 128}) {
            float[] x = Check.gaussian(r, hd, 3);
            x[1] = 0;
            try (Arena arena = Arena.ofShared()) {
                KvCache c = KvCache.allocate(arena, DType.I8, 2, 4, hd);
                c.append(java.util.Arrays.copyOf(x, 2 * hd), 1, 3);
                int g = jmlc.compiler.quant.Int8KvCache.group(hd);
                for (int g0 = 0; g0 < hd; g0 += g) {
                    float amax = 0;
                    for (int i = g0; i < g0 + g; i++) amax = Math.max(amax, Math.abs(x[i]));
                    float step = jmlc.compiler.quant.Int8KvCache.scale(amax);
                    for (int i = g0; i < g0 + g; i++)
                        assertTrue(Math.abs(c.get(0, 3, i) - x[i]) <= 0.5f * step * 1.002f + 1e-6f, "hd " + hd + " element " + i + ": " + x[i] + " came back " + c.get(0, 3, i));
                }
                assertEquals(0f, c.get(0, 3, 1));
                assertEquals(0f, c.get(1, 0, 0), "a position never written reads 0");
            }
        }
    }

    @Test
    void overflowIsAnError() {
        try (Arena arena = Arena.ofShared()) {
            KvCache c = KvCache.allocate(arena, DType.F16, 2, 8, 4);
            assertThrows(IllegalArgumentException.class, () -> c.append(new float[3 * 8], 3, 6));
            assertThrows(IllegalArgumentException.class, () -> c.append(new float[7], 1, 0));
        }
    }

    /** Positions {@code [pos, pos+seq)} of every head agree to {@code tol} relative. */
    static void sameContents(String what, KvCache a, KvCache b, int pos, int seq, double tol) {
        int n = a.nKv() * seq * a.headDim(), i = 0;
        float[] x = new float[n], y = new float[n];
        for (int h = 0; h < a.nKv(); h++)
            for (int p = pos; p < pos + seq; p++)
                for (int e = 0; e < a.headDim(); e++, i++) {
                    x[i] = a.get(h, p, e);
                    y[i] = b.get(h, p, e);
                }
        double err = Check.relError(x, y, n);
        assertTrue(err < tol, what + ": relative error " + err + " [seed " + Check.SEED + "]");
    }
}
