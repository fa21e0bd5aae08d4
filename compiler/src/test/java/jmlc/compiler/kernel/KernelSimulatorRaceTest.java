package jmlc.compiler.kernel;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static jmlc.compiler.kernel.K.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The simulator runs threads in lockstep, so a missing barrier computes the right values there;
 * it must fail the launch instead, as the GPU's warps would race. One block of two 32-lane warps
 * and a shared array of 64 words.
 */
class KernelSimulatorRaceTest {
    static final Shared S = new Shared("s", KType.I32, 64);
    static final Buffer OUT = new Buffer("out", KType.I32, false);

    /** Runs {@code body} in one block of 64 threads and returns out[0..64). */
    static int[] run(Consumer<K.Body> body) {
        return run(body, 1);
    }

    static int[] run(Consumer<K.Body> body, int blocks) {
        K.Body b = new K.Body();
        body.accept(b);
        Kernel k = new Kernel("race_probe", List.of(OUT), List.of(), List.of(S), b.build(), new int[] {64, 1, 1}, new Expr[] {c(blocks), c(1), c(1)}, Map.of(), "probe");
        return java.util.Arrays.copyOf(SimulatorProbe.run(k, 128), 64);
    }

    static void assertRace(Consumer<K.Body> body, String what) {
        assertRace(body, 1, "race on shared s[", what);
    }

    static void assertRace(Consumer<K.Body> body, int blocks, String where, String what) {
        var e = assertThrows(IllegalStateException.class, () -> run(body, blocks));
        assertTrue(e.getMessage().contains(where) && e.getMessage().contains(what), e.getMessage());
    }

    @Test
    void globalMemoryAnotherWarpWroteNeedsABarrierAndAnotherBlocksWriteIsNeverOrdered() {
        // warps of a block: the appended cache entry pattern (some threads write, all read)
        Consumer<K.Body> noBarrier = b -> {
            b.store(OUT, tid(0), tid(0));
            b.ifThen(lt(tid(0), c(32)), x -> x.store(OUT, add(tid(0), c(64)), load(OUT, add(tid(0), c(32)))));
        };
        assertRace(noBarrier, 1, "race on out", "then read by block 0, warp 0");
        int[] out = run(b -> {
            b.store(OUT, add(mul(bid(0), c(64)), tid(0)), tid(0));
            b.barrier();
            b.ifThen(lt(tid(0), c(32)), x -> x.store(OUT, add(mul(bid(0), c(64)), add(tid(0), c(32))), add(load(OUT, add(mul(bid(0), c(64)), add(tid(0), c(32)))), c(100))));
        }, 1);
        for (int t = 0; t < 64; t++) assertEquals(t < 32 ? t : t + 100, out[t]);
        // another block's write: no barrier orders blocks
        assertRace(b -> {
            b.ifThen(eq(bid(0), c(0)), x -> x.store(OUT, tid(0), tid(0)));
            b.ifThen(eq(bid(0), c(1)), x -> x.store(OUT, add(tid(0), c(64)), load(OUT, tid(0))));
        }, 2, "race on out", "written by block 0, warp");
    }

    @Test
    void readingAnotherWarpsWriteNeedsABarrier() {
        Consumer<K.Body> withBarrier = b -> {
            b.sstore(S, tid(0), tid(0));
            b.barrier();
            b.store(OUT, tid(0), sload(S, mod(add(tid(0), c(32)), c(64))));
        };
        int[] out = run(withBarrier);
        for (int t = 0; t < 64; t++) assertEquals((t + 32) % 64, out[t]);
        assertRace(b -> {
            b.sstore(S, tid(0), tid(0));
            b.store(OUT, tid(0), sload(S, mod(add(tid(0), c(32)), c(64))));
        }, "then read by warp");
    }

    @Test
    void overwritingWhatAnotherWarpStillReadsNeedsABarrier() {
        assertRace(b -> {
            b.sstore(S, tid(0), tid(0));
            b.barrier();
            var v = b.let("v", sload(S, mod(add(tid(0), c(32)), c(64))));
            b.sstore(S, tid(0), add(v, c(1)));     // warp 0 overwrites words warp 1 read in this epoch
            b.store(OUT, tid(0), v);
        }, "then written by warp");
        assertRace(b -> b.sstore(S, c(0), tid(0)), "written by warps 0 and 1");
    }

    @Test
    void lanesOfOneWarpShareWordsWithoutABarrier() {
        int[] out = run(b -> {
            b.sstore(S, tid(0), mul(tid(0), c(2)));
            b.store(OUT, tid(0), sload(S, xor(tid(0), c(1))));  // the neighbour lane, same warp
        });
        for (int t = 0; t < 64; t++) assertEquals(2 * (t ^ 1), out[t]);
    }
}
