package jmlc.compiler.kernel;

import jmlc.compiler.codegen.CudaEmitter;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static jmlc.compiler.kernel.K.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Asynchronous copies to shared memory ({@link Stmt.AsyncCopy}, {@link Stmt.AsyncCommit}, {@link Stmt.AsyncWait}):
 * the simulator lands a group at the wait that leaves it behind and fails a use of a slot still in flight;
 * the check refuses them where the target has no cp.async; the CUDA emitter prints them, and a kernel's
 * shared arrays above 48 KiB as one dynamic array carved from 16-byte boundaries. One block of 64 threads,
 * each copying three 16-byte words of a random buffer in three groups.
 */
class AsyncCopyTest {
    static final Buffer IN = new Buffer("in", KType.U32, true), OUT = new Buffer("out", KType.U32, false);
    static final Shared RING = new Shared("ring", KType.U32X4, 3 * 64);
    static final Capabilities CUDA = Target.parse("cuda:sm_90").caps();

    /** Thread t copies words t, 64 + t, 128 + t (as u32x4) into slots t, 64 + t, 128 + t, a group each; then {@code use} reads them. */
    static void copies(K.Body b, Consumer<K.Body> use) {
        for (int g = 0; g < 3; g++) {
            b.asyncCopy(RING, add(c(64 * g), tid(0)), IN, add(c(64 * g), tid(0)));
            b.asyncCommit();
        }
        use.accept(b);
    }

    /** out[4 (64 g + t) + l] = lane l of slot 64 g + t. */
    static void store(K.Body b, int g) {
        Expr.Var v = b.let(b.fresh("v"), sload(RING, add(c(64 * g), tid(0))));
        for (int l = 0; l < 4; l++) b.store(OUT, add(mul(add(c(64 * g), tid(0)), c(4)), c(l)), lane(v, l));
    }

    static Kernel kernel(Consumer<K.Body> body, List<Shared> shared, Capabilities caps) {
        K.Body b = new K.Body();
        body.accept(b);
        return Kernel.checked("async_copy_probe", List.of(IN, OUT), List.of(), shared, b.build(), new int[] {64, 1, 1},
                new Expr[] {c(1), c(1), c(1)}, Map.of(), "probe", 0, caps);
    }

    static int[] run(Kernel k, int[] in) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocate(4L * in.length, 16), out = a.allocate(4L * in.length, 16);
            for (int i = 0; i < in.length; i++) src.setAtIndex(GroupQuantizer.U32, i, in[i]);
            new KernelSimulator(32).launch(k, Map.of("in", src, "out", out), Map.of());
            int[] v = new int[in.length];
            for (int i = 0; i < in.length; i++) v[i] = out.getAtIndex(GroupQuantizer.U32, i);
            return v;
        }
    }

    static int[] random() {
        return random(4 * 3 * 64);
    }

    /** {@code words} fresh random words. */
    static int[] random(int words) {
        int[] in = new int[words];
        Random r = new Random();
        for (int i = 0; i < in.length; i++) in[i] = r.nextInt();
        return in;
    }

    @Test
    void eachGroupLandsAtTheWaitThatLeavesItBehind() {
        int[] in = random();
        // wait 2: the first group has landed; wait 1: the second; wait 0: all
        int[] out = run(kernel(b -> copies(b, u -> {
            u.asyncWait(2);
            store(u, 0);
            u.asyncWait(1);
            store(u, 1);
            u.asyncWait(0);
            store(u, 2);
        }), List.of(RING), CUDA), in);
        for (int i = 0; i < in.length; i++) assertEquals(in[i], out[i], "word " + i);
    }

    @Test
    void aSlotUsedBeforeItsGroupIsWaitedForFailsTheLaunch() {
        var e = assertThrows(IllegalStateException.class, () -> run(kernel(b -> copies(b, u -> {
            u.asyncWait(2);
            store(u, 1); // the second group may still be in flight
        }), List.of(RING), CUDA), random()));
        assertTrue(e.getMessage().contains("ring[64] used while an asynchronous copy to it is in flight"), e.getMessage());
    }

    @Test
    void onlyTargetsWithCpAsyncTakeThemAndOnlyFromReadOnlyBuffers() {
        var older = assertThrows(IllegalStateException.class, () -> kernel(b -> copies(b, u -> u.asyncWait(0)), List.of(RING), Target.parse("cuda:sm_75").caps()));
        assertTrue(older.getMessage().contains("cp.async"), older.getMessage());
        var vulkan = assertThrows(IllegalStateException.class, () -> kernel(b -> copies(b, u -> u.asyncWait(0)), List.of(RING), Target.parse("vulkan").caps()));
        assertTrue(vulkan.getMessage().contains("cp.async"), vulkan.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Stmt.AsyncCopy(RING, c(0), OUT, c(0)), "a buffer the kernel writes");
        assertThrows(IllegalArgumentException.class, () -> new Stmt.AsyncCopy(new Shared("h", KType.F16, 8), c(0), IN, c(0)), "2 bytes");
        assertThrows(IllegalArgumentException.class, () -> new Stmt.AsyncWait(8), "wait_group takes 0 to 7");
    }

    /** A kernel that copies into the ring and also stores to {@code words} (u32) and {@code floats} (f32), arrays in that order. */
    private static Kernel ringAnd(Shared words, Shared floats) {
        return kernel(b -> copies(b, u -> {
            u.asyncWait(0);
            store(u, 0);
            u.sstore(words, tid(0), u(1));
            u.sstore(floats, c(0), f(1));
        }), List.of(RING, words, floats), CUDA);
    }

    @Test
    void cudaPrintsCpAsyncAndCarvesSharedArraysAbove48KiBOutOfOneDynamicArray() {
        Consumer<K.Body> body = b -> copies(b, u -> {
            u.asyncWait(0);
            store(u, 0);
        });
        String small = new CudaEmitter().emit(kernel(body, List.of(RING), CUDA));
        assertTrue(small.contains("cp.async.cg.shared.global [%0], [%1], 16;") && small.contains("cp.async.commit_group;")
                && small.contains("cp.async.wait_group 0;"), small);
        assertTrue(small.contains("__shared__ __align__(16) uint4 ring[192];") && !small.contains("extern __shared__"), "3 KiB stay static: " + small);
        // 3 KiB + 60 000 bytes + 20 bytes: above 48 KiB, so dynamic, each array from a 16-byte boundary
        Shared big = new Shared("big", KType.U32, 15000), odd = new Shared("odd", KType.F32, 5);
        Kernel k = ringAnd(big, odd);
        String src = new CudaEmitter().emit(k);
        assertFalse(src.contains("__shared__ uint4 ring["), src);
        Matcher m = Pattern.compile("([\\w ]+)\\* (\\w+) = \\([\\w ]+\\*\\)\\(jmlc_dynamic_shared \\+ (\\d+)\\);").matcher(src);
        int end = 0, arrays = 0;
        while (m.find()) {
            int at = Integer.parseInt(m.group(3));
            Shared s = switch (m.group(2)) { case "ring" -> RING; case "big" -> big; case "odd" -> odd; default -> throw new AssertionError(m.group()); };
            assertEquals(0, at % 16, s + " from a 16-byte boundary");
            assertTrue(at >= end, s + " after the array before it");
            end = at + s.bytes();
            arrays++;
        }
        assertEquals(3, arrays, src);
        assertEquals((end + 15) / 16 * 16, CudaEmitter.dynamicSharedBytes(k));
        assertEquals(0, CudaEmitter.dynamicSharedBytes(kernel(body, List.of(RING), CUDA)));
        // exactly 48 KiB of elements whose arrays, each from a 16-byte boundary, take more: dynamic, not a static
        // layout ptxas could refuse (3072 + 46 060 + 20 bytes, 49 168 from 16-byte boundaries)
        Kernel edge = ringAnd(new Shared("rest", KType.U32, 11515), new Shared("five", KType.F32, 5));
        assertEquals(48 * 1024, edge.sharedBytes());
        assertEquals(49168, CudaEmitter.dynamicSharedBytes(edge));
        // beyond what a block may opt in to: refused
        var tooBig = assertThrows(IllegalStateException.class, () -> kernel(body, List.of(RING, new Shared("huge", KType.U32, 60_000)), CUDA));
        assertTrue(tooBig.getMessage().contains("232448 opting in"), tooBig.getMessage());
    }

    /**
     * 16 bytes into a u32 array: lanes 0 to 7 of each warp copy its 32 words of IN in pieces of 4 (lane l words 4l to
     * 4l + 3); then every thread reads its own word, which lane (t mod 32) / 4 of its warp copied.
     */
    static final Shared WORDS = new Shared("words", KType.U32, 64);

    static Kernel pieces(Consumer<K.Body> between, Capabilities caps) {
        return kernel(b -> {
            Expr.Var at = b.let("at", add(mul(div(tid(0), c(32)), c(32)), mul(mod(tid(0), c(32)), c(4))));
            b.ifThen(lt(mod(tid(0), c(32)), c(8)), t -> t.asyncCopy(WORDS, at, IN, at, 4));
            b.asyncCommit();
            b.asyncWait(0);
            between.accept(b);
            b.store(OUT, tid(0), sload(WORDS, tid(0)));
        }, List.of(WORDS), caps);
    }

    @Test
    void aPieceOfFourWordsLandsWholeAndOtherLanesReadItOnlyAfterASubgroupBarrier() {
        int[] in = random();
        int[] out = run(pieces(K.Body::subgroupBarrier, CUDA), in);
        for (int t = 0; t < 64; t++) assertEquals(in[t], out[t], "word " + t);
        var e = assertThrows(IllegalStateException.class, () -> run(pieces(b -> { }, CUDA), in));
        assertTrue(e.getMessage().contains("asynchronous copy, then read by thread") && e.getMessage().contains("no subgroup barrier"), e.getMessage());
        // a block barrier orders them too
        assertEquals(in[63], run(pieces(K.Body::barrier, CUDA), in)[63]);
        String src = new CudaEmitter().emit(pieces(K.Body::subgroupBarrier, CUDA));
        assertTrue(src.contains("cp.async.cg.shared.global [%0], [%1], 16;") && src.contains("__syncwarp();") && src.contains("__shared__ __align__(16) unsigned int words[64];"), src);
    }

    @Test
    void aPieceMustStartOnItsSizeAndALaneMayNotCopyOverAWordAnotherReadWithoutABarrier() {
        var e = assertThrows(IllegalStateException.class, () -> run(kernel(b -> {
            b.asyncCopy(WORDS, mul(tid(0), c(4)), IN, add(mul(tid(0), c(4)), c(2)), 4);
            b.asyncCommit();
            b.asyncWait(0);
        }, List.of(WORDS), CUDA), random()));
        assertTrue(e.getMessage().contains("both ends must start on 16 bytes"), e.getMessage());
        // each thread reads its warp's next lane's word, then copies over its own: lane l's copy over what lane l - 1 read
        java.util.function.BiFunction<Boolean, Capabilities, Kernel> overwrite = (sync, caps) -> kernel(b -> {
            b.sstore(WORDS, tid(0), u(7));
            b.barrier();
            b.store(OUT, tid(0), sload(WORDS, add(mul(div(tid(0), c(32)), c(32)), mod(add(tid(0), c(1)), c(32)))));
            if (sync) b.subgroupBarrier();
            b.asyncCopy(WORDS, tid(0), IN, tid(0));
            b.asyncCommit();
            b.asyncWait(0);
        }, List.of(WORDS), caps);
        run(overwrite.apply(true, CUDA), random());
        var war = assertThrows(IllegalStateException.class, () -> run(overwrite.apply(false, CUDA), random()));
        assertTrue(war.getMessage().contains("then overwritten by thread") && war.getMessage().contains("asynchronous copy"), war.getMessage());
    }
}
