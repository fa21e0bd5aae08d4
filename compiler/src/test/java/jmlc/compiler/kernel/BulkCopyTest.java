package jmlc.compiler.kernel;

import jmlc.compiler.codegen.CudaEmitter;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static jmlc.compiler.kernel.K.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bulk copies to shared memory on copy barriers ({@link Stmt.BulkCopy}, {@link Stmt.CopyBarrier}): the simulator lands a
 * phase's copies at the first wait for it, and fails a read before that wait, a wait for a phase that never completes
 * (bytes still due), a copy over what another lane read with no subgroup barrier between, and ends off 16 bytes; the check
 * refuses them below sm_90; the CUDA emitter prints them. One block of two warps: each warp's first lane copies 64 words
 * of 16 bytes for its warp in two copies of 32, a phase a round, into its 64 slots of the ring; every lane waits and
 * stores the two slots it owns.
 */
class BulkCopyTest {
    static final Buffer IN = new Buffer("in", KType.U32X4, true), OUT = new Buffer("out", KType.U32, false);
    static final Shared RING = new Shared("ring", KType.U32X4, 128), BARS = new Shared("bars", KType.U32X2, 2);
    static final Capabilities CUDA = Target.parse("cuda:sm_90").caps();
    static final Expr WARP = div(tid(0), c(32)), LANE = mod(tid(0), c(32));

    /** Round {@code r}: the warp's first lane arrives expecting {@code expect} bytes and copies IN's words 128 r + 64 w ... in two halves. */
    static void round(K.Body b, int r, int expect) {
        b.ifThen(eq(LANE, c(0)), l -> {
            l.copyBarrierExpect(BARS, WARP, c(expect));
            for (int h = 0; h < 2; h++)
                l.bulkCopy(RING, add(mul(WARP, c(64)), c(32 * h)), IN, add(c(128 * r + 32 * h), mul(WARP, c(64))), c(32), BARS, WARP);
        });
    }

    /** out[4 (128 r + 64 w + 32 h + lane) + l] = lane l of the thread's slot h of round r. */
    static void store(K.Body b, int r) {
        for (int h = 0; h < 2; h++) {
            Expr.Var v = b.let(b.fresh("v"), sload(RING, add(add(mul(WARP, c(64)), c(32 * h)), LANE)));
            for (int l = 0; l < 4; l++) b.store(OUT, add(mul(add(c(128 * r + 32 * h), add(mul(WARP, c(64)), LANE)), c(4)), c(l)), lane(v, l));
        }
    }

    static void init(K.Body b) {
        b.ifThen(eq(LANE, c(0)), l -> l.copyBarrierInit(BARS, WARP));
        b.subgroupBarrier();
    }

    /** Two rounds through the same slots: phase 0, then (after a subgroup barrier: the lanes' reads are done) phase 1. */
    static void twoRounds(K.Body b) {
        init(b);
        round(b, 0, 1024);
        b.copyBarrierWait(BARS, WARP, c(0));
        store(b, 0);
        b.subgroupBarrier();
        round(b, 1, 1024);
        b.copyBarrierWait(BARS, WARP, c(1));
        store(b, 1);
    }

    static Kernel kernel(Consumer<K.Body> body, Capabilities caps) {
        K.Body b = new K.Body();
        body.accept(b);
        return Kernel.checked("bulk_copy_probe", List.of(IN, OUT), List.of(), List.of(RING, BARS), b.build(), new int[] {64, 1, 1},
                new Expr[] {c(1), c(1), c(1)}, Map.of(), "probe", 0, caps);
    }

    /** As {@link AsyncCopyTest#run}: IN and OUT over {@code in}'s words. */
    static int[] run(Kernel k, int[] in) {
        return AsyncCopyTest.run(k, in);
    }

    static int[] random() {
        return AsyncCopyTest.random(4 * 256);
    }

    @Test
    void eachPhaseLandsAtTheWaitForItsParity() {
        int[] in = random();
        int[] out = run(kernel(BulkCopyTest::twoRounds, CUDA), in);
        for (int i = 0; i < in.length; i++) assertEquals(in[i], out[i], "word " + i);
    }

    @Test
    void aReadBeforeTheWaitOrAWaitForAPhaseThatNeverCompletesFailsTheLaunch() {
        var early = assertThrows(IllegalStateException.class, () -> run(kernel(b -> {
            init(b);
            round(b, 0, 1024);
            store(b, 0); // no wait
        }, CUDA), random()));
        assertTrue(early.getMessage().contains("ring[0] used while an asynchronous copy to it is in flight"), early.getMessage());
        var parity = assertThrows(IllegalStateException.class, () -> run(kernel(b -> {
            init(b);
            round(b, 0, 1024);
            b.copyBarrierWait(BARS, WARP, c(0));
            b.copyBarrierWait(BARS, WARP, c(1)); // phase 1 has no arrival
        }, CUDA), random()));
        assertTrue(parity.getMessage().contains("parity 1 that never completes: 1 arrival(s) and 0 bytes still due"), parity.getMessage());
        var bytes = assertThrows(IllegalStateException.class, () -> run(kernel(b -> {
            init(b);
            round(b, 0, 2048); // expects twice what it copies
            b.copyBarrierWait(BARS, WARP, c(0));
        }, CUDA), random()));
        assertTrue(bytes.getMessage().contains("0 arrival(s) and 1024 bytes still due"), bytes.getMessage());
        var unset = assertThrows(IllegalStateException.class, () -> run(kernel(b -> round(b, 0, 1024), CUDA), random()));
        assertTrue(unset.getMessage().contains("before any thread set it up"), unset.getMessage());
    }

    @Test
    void aCopyOverSlotsTheOtherLanesReadNeedsASubgroupBarrierAndBothEndsOn16Bytes() {
        var race = assertThrows(IllegalStateException.class, () -> run(kernel(b -> {
            init(b);
            round(b, 0, 1024);
            b.copyBarrierWait(BARS, WARP, c(0));
            store(b, 0);
            round(b, 1, 1024); // lane 0 copies over slots lanes 1 to 31 read: no subgroup barrier
        }, CUDA), random()));
        assertTrue(race.getMessage().contains("overwritten by thread 0's asynchronous copy") && race.getMessage().contains("no subgroup barrier"), race.getMessage());
        Buffer words = new Buffer("in", KType.U32, true);
        Shared ring = new Shared("ring", KType.U32, 64);
        var odd = assertThrows(IllegalStateException.class, () -> run(Kernel.checked("bulk_copy_probe", List.of(words, OUT), List.of(), List.of(ring, BARS), block(b -> {
            init(b);
            b.ifThen(eq(LANE, c(0)), l -> {
                l.copyBarrierExpect(BARS, WARP, c(16));
                l.bulkCopy(ring, c(0), words, c(2), c(4), BARS, WARP); // from byte 8
            });
        }), new int[] {64, 1, 1}, new Expr[] {c(1), c(1), c(1)}, Map.of(), "probe", 0, CUDA), random()));
        assertTrue(odd.getMessage().contains("must be positive multiples of 16 bytes"), odd.getMessage());
    }

    private static Stmt block(Consumer<K.Body> body) {
        K.Body b = new K.Body();
        body.accept(b);
        return b.build();
    }

    @Test
    void onlySm90TakesThemAndCudaPrintsTheCopyEngineAndTheBarrier() {
        for (String t : new String[] {"cuda:sm_80", "vulkan", "rocm:gfx90a"}) {
            var e = assertThrows(IllegalStateException.class, () -> kernel(BulkCopyTest::twoRounds, Target.parse(t).caps()), t);
            assertTrue(e.getMessage().contains("cp.async.bulk") || e.getMessage().contains("mbarrier"), t + ": " + e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new Stmt.BulkCopy(RING, c(0), OUT, c(0), c(1), BARS, c(0)), "a buffer the kernel writes");
        assertThrows(IllegalArgumentException.class, () -> new Stmt.CopyBarrier(Stmt.CopyBarrier.Op.WAIT, RING, c(0), c(0)), "barriers are u32x2");
        String src = new CudaEmitter().emit(kernel(BulkCopyTest::twoRounds, CUDA));
        assertTrue(src.contains("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];") && src.contains("jmlc_mbar_init(bars + ")
                && src.contains("jmlc_mbar_expect(bars + ") && src.contains("jmlc_mbar_wait(bars + ") && src.contains("__shared__ __align__(16) uint2 bars[2];"), src);
    }
}
