package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.RopeSpec;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link Rope} against {@link Reference#rope}: both styles, head sizes that take the vector path
 * (64, 128), a partial one (80: half of 40 lanes) and the scalar one (6), the three frequency
 * scalings, positions well past 0. Tolerance 1e-5: the fast path's cos/sin are floats rounded from
 * double (the reference multiplies in double).
 */
class RopeTest {
    static final RopeSpec.Scaling NONE = new RopeSpec.Scaling.None();

    static List<RopeSpec> specs() {
        return List.of(
                new RopeSpec(64, 10000, RopeSpec.Style.HALF, NONE),
                new RopeSpec(64, 10000, RopeSpec.Style.INTERLEAVED, NONE),
                new RopeSpec(128, 500000, RopeSpec.Style.HALF, new RopeSpec.Scaling.Llama3(8, 1, 4, 8192)),
                new RopeSpec(128, 10000, RopeSpec.Style.INTERLEAVED, new RopeSpec.Scaling.Linear(4)),
                new RopeSpec(80, 10000, RopeSpec.Style.HALF, NONE),
                new RopeSpec(80, 10000, RopeSpec.Style.INTERLEAVED, NONE),
                new RopeSpec(6, 100, RopeSpec.Style.HALF, NONE));
    }

    @Test
    void bothStylesAndScalings() {
        for (RopeSpec spec : specs()) {
            Rope rope = new Rope(spec, 4096);
            for (int heads : new int[] {1, 4, 7})
                for (int seq : new int[] {1, 3, 17})
                    for (int pos : new int[] {0, 5, 4000}) {
                        if (pos + seq > 4096) continue;
                        int cols = heads * spec.headDim();
                        SplittableRandom r = Check.random("rope" + spec + heads + seq + pos);
                        float[] x = Check.gaussian(r, seq * cols, 1), ref = new float[seq * cols], out = Check.poisoned(seq * cols);
                        Reference.rope(spec, x, seq, cols, pos, ref);
                        rope.apply(x, seq, cols, pos, out);
                        String what = "rope " + spec.style() + " hd " + spec.headDim() + " heads " + heads + " seq " + seq + " pos " + pos;
                        Check.close(what, out, ref, seq * cols, 1e-5);
                        rope.apply(x, seq, cols, pos, x);
                        Check.close(what + " in place", x, ref, seq * cols, 1e-5);
                    }
        }
    }

    @Test
    void ropeKvAppendMatchesRopeThenAppend() {
        for (RopeSpec spec : specs())
            for (DType cacheType : new DType[] {DType.F32, DType.F16})
                for (int[] hk : new int[][] {{4, 4}, {8, 2}, {8, 1}})
                    for (int seq : new int[] {1, 3, 17}) {
                        int nHeads = hk[0], nKv = hk[1], hd = spec.headDim(), pos = 9, ctx = 40;
                        SplittableRandom r = Check.random("ropekv" + spec + cacheType + nHeads + nKv + seq);
                        float[] qkv = Check.gaussian(r, seq * (nHeads + 2 * nKv) * hd, 1);
                        try (Arena arena = Arena.ofShared()) {
                            KvCache k = KvCache.allocate(arena, cacheType, nKv, ctx, hd), v = KvCache.allocate(arena, cacheType, nKv, ctx, hd);
                            KvCache kr = KvCache.allocate(arena, cacheType, nKv, ctx, hd), vr = KvCache.allocate(arena, cacheType, nKv, ctx, hd);
                            float[] q = Check.poisoned(seq * nHeads * hd), qRef = new float[seq * nHeads * hd];
                            new Rope(spec, ctx).applyAndAppend(qkv, seq, nHeads, nKv, pos, q, k, v);
                            Reference.ropeKvAppend(spec, qkv, seq, nHeads, nKv, pos, qRef, kr, vr);
                            String what = "rope_kv_append " + spec.style() + " hd " + hd + " " + cacheType + " H " + nHeads + " nKv " + nKv + " seq " + seq;
                            Check.close(what + " q", q, qRef, seq * nHeads * hd, 1e-5);
                            // f16 caches: the roped k may round to the neighbouring half (1 ulp = 2^-11 relative)
                            double tol = cacheType == DType.F16 ? 1e-3 : 1e-5;
                            KvCacheTest.sameContents(what + " k", k, kr, pos, seq, tol);
                            KvCacheTest.sameContents(what + " v", v, vr, pos, seq, 1e-7);
                        }
                    }
    }

    @Test
    void positionsPastTheTableAreAnError() {
        Rope rope = new Rope(specs().get(0), 16);
        assertThrows(IllegalArgumentException.class, () -> rope.apply(new float[64 * 2], 2, 64, 15, new float[64 * 2]));
        assertThrows(IllegalArgumentException.class, () -> rope.apply(new float[60], 1, 60, 0, new float[60]));
    }
}
