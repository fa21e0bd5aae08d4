package jmlc.compiler.kernel;

import jmlc.compiler.codegen.CudaEmitter;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static jmlc.compiler.kernel.K.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Grid barriers ({@link Stmt.GridBarrier}): what the simulator does with them (every block reaches one
 * before any passes it, so a block may then read what another wrote), what the static check refuses,
 * and what the CUDA emitter prints. Four persistent blocks of 64 threads over a buffer of 512 words.
 */
class GridBarrierTest {
    static final Buffer OUT = new Buffer("out", KType.I32, false), COUNTER = new Buffer("counter", KType.U32, false);
    static final Capabilities CUDA = Target.parse("cuda:sm_90").caps();

    /** Phase 1: block b writes words 64b .. 64b+63; phase 2: it reads its neighbour's (b+1 mod 4) and writes them + 1000 at 256 + 64b. */
    static void neighbours(K.Body b, boolean barrier) {
        b.block(x -> x.store(OUT, add(mul(bid(0), c(64)), tid(0)), add(mul(bid(0), c(64)), tid(0))));
        if (barrier) b.gridBarrier(COUNTER);
        b.block(x -> x.store(OUT, add(c(256), add(mul(bid(0), c(64)), tid(0))),
                add(load(OUT, add(mul(mod(add(bid(0), c(1)), c(4)), c(64)), tid(0))), c(1000))));
    }

    static Kernel kernel(Consumer<K.Body> body, int tiles, Capabilities caps) {
        K.Body b = new K.Body();
        body.accept(b);
        return Kernel.checked("grid_barrier_probe", List.of(OUT, COUNTER), List.of(), List.of(), b.build(), new int[] {64, 1, 1},
                new Expr[] {c(4), c(1), c(1)}, Map.of(), "probe", tiles, caps);
    }

    static int[] run(Kernel k) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(4L * 512, 16), counter = a.allocate(4, 4);
            new KernelSimulator(32).launch(k, Map.of("out", out, "counter", counter), Map.of());
            int[] v = new int[512];
            for (int i = 0; i < 512; i++) v[i] = out.getAtIndex(GroupQuantizer.U32, i);
            return v;
        }
    }

    @Test
    void afterTheBarrierABlockReadsWhatAnotherWroteBeforeIt() {
        int[] out = run(kernel(b -> neighbours(b, true), 4, CUDA));
        for (int blk = 0; blk < 4; blk++)
            for (int t = 0; t < 64; t++) {
                assertEquals(64 * blk + t, out[64 * blk + t]);
                assertEquals(64 * ((blk + 1) % 4) + t + 1000, out[256 + 64 * blk + t], "block " + blk + " thread " + t);
            }
    }

    @Test
    void withoutTheBarrierTheSimulatorReportsTheRace() {
        var e = assertThrows(IllegalStateException.class, () -> run(kernel(b -> neighbours(b, false), 4, CUDA)));
        assertTrue(e.getMessage().contains("race on out"), e.getMessage());
    }

    @Test
    void theCheckRefusesBarriersOutsideTheTopLevelOfAPersistentKernelOnACapableTarget() {
        var nested = assertThrows(IllegalStateException.class, () -> kernel(b -> b.ifThen(lt(tid(0), c(64)), x -> x.gridBarrier(COUNTER)), 4, CUDA));
        assertTrue(nested.getMessage().contains("inside a loop or branch"), nested.getMessage());
        // in a plain block every thread reaches it: allowed, and the simulator orders blocks by it there too
        int[] out = run(kernel(b -> b.block(x -> neighbours(x, true)), 4, CUDA));
        assertEquals(64 * 1 + 5 + 1000, out[256 + 5], "block 0 read block 1's word 5 after the barrier");
        var notPersistent = assertThrows(IllegalStateException.class, () -> kernel(b -> neighbours(b, true), 0, CUDA));
        assertTrue(notPersistent.getMessage().contains("no persistent tiles"), notPersistent.getMessage());
        var returns = assertThrows(IllegalStateException.class, () -> kernel(b -> {
            b.ifThen(eq(bid(0), c(3)), K.Body::ret);
            neighbours(b, true);
        }, 4, CUDA));
        assertTrue(returns.getMessage().contains("return before a grid barrier"), returns.getMessage());
        for (String t : new String[] {"vulkan", "rocm:gfx90a"}) {
            var e = assertThrows(IllegalStateException.class, () -> kernel(b -> neighbours(b, true), 4, Target.parse(t).caps()));
            assertTrue(e.getMessage().contains("grid barriers"), t + ": " + e.getMessage());
        }
        var readOnly = assertThrows(IllegalArgumentException.class, () -> new Stmt.GridBarrier(new Buffer("c", KType.U32, true)));
        assertTrue(readOnly.getMessage().contains("writable u32"), readOnly.getMessage());
    }

    @Test
    void cudaPrintsTheBarrierInlineAndDeclaresWrittenBuffersAliasable() {
        String src = new CudaEmitter().emit(kernel(b -> neighbours(b, true), 4, CUDA));
        assertTrue(src.contains("atomicAdd(counter, add)") && src.contains("0x80000000u - (blocks - 1u)"), src);
        assertTrue(src.contains("__trap()"), "a wait of seconds traps instead of hanging: " + src);
        assertTrue(src.contains("int* out") && !src.contains("__restrict__ out"), src);
        // a kernel without one keeps its buffers unaliased
        String plain = new CudaEmitter().emit(kernel(b -> b.store(OUT, tid(0), tid(0)), 4, CUDA));
        assertFalse(plain.contains("atomicAdd"), plain);
        assertTrue(plain.contains("__restrict__ out"), plain);
    }
}
