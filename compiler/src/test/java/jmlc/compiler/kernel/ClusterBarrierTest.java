package jmlc.compiler.kernel;

import jmlc.compiler.codegen.CudaEmitter;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static jmlc.compiler.kernel.K.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Thread block clusters ({@link Stmt.ClusterBarrier}, {@link Expr.SharedLoad} by rank): what the simulator does (a block
 * reads another's shared memory written before a cluster barrier both passed), the races it reports, what the static
 * check refuses and what the CUDA emitter prints. A grid of 8 blocks of 64 threads in clusters of 4 along x.
 */
class ClusterBarrierTest {
    static final Buffer OUT = new Buffer("out", KType.F32, false);
    static final Shared MINE = new Shared("mine", KType.F32, 64);
    static final Capabilities CUDA = Target.parse("cuda:sm_90").caps();

    /** Block b writes b * 100 + t to its shared word t; after the barrier it stores its cluster neighbour's (rank + 1 mod 4) at 64b + t. */
    static void neighbours(K.Body b, boolean first, boolean last) {
        b.sstore(MINE, tid(0), cast(KType.F32, add(mul(bid(0), c(100)), tid(0))));
        if (first) b.clusterBarrier(4, 1, 1);
        b.storeF(OUT, add(mul(bid(0), c(64)), tid(0)), sloadCluster(MINE, mod(add(mod(bid(0), c(4)), c(1)), c(4)), tid(0)));
        if (last) b.clusterBarrier(4, 1, 1);
    }

    static Kernel kernel(Consumer<K.Body> body, Capabilities caps) {
        K.Body b = new K.Body();
        body.accept(b);
        return Kernel.checked("cluster_probe", List.of(OUT), List.of(), List.of(MINE), b.build(), new int[] {64, 1, 1},
                new Expr[] {c(8), c(1), c(1)}, Map.of(), "probe", 0, caps);
    }

    static float[] run(Kernel k) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(4L * 512, 16);
            new KernelSimulator(32).launch(k, Map.of("out", out), Map.of());
            float[] v = new float[512];
            for (int i = 0; i < 512; i++) v[i] = out.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
            return v;
        }
    }

    @Test
    void afterTheBarrierABlockReadsItsClusterNeighboursSharedMemory() {
        float[] out = run(kernel(b -> neighbours(b, true, true), CUDA));
        for (int blk = 0; blk < 8; blk++) {
            int neighbour = blk / 4 * 4 + (blk % 4 + 1) % 4; // within its own cluster: block 3 reads block 0, block 7 block 4
            for (int t = 0; t < 64; t++) assertEquals(neighbour * 100 + t, out[64 * blk + t], "block " + blk + " thread " + t);
        }
    }

    @Test
    void theSimulatorReportsAReadWithNoBarrierBeforeItOrNoneAfterIt() {
        var before = assertThrows(IllegalStateException.class, () -> run(kernel(b -> {
            b.clusterBarrier(4, 1, 1); // a barrier, but not between the write and the read
            neighbours(b, false, true);
        }, CUDA)));
        assertTrue(before.getMessage().contains("race on shared mine") || before.getMessage().contains("read before any thread wrote it"), before.getMessage());
        // a read in the last phase, with the check's own rule bypassed: a kernel built without a target
        K.Body b = new K.Body();
        neighbours(b, true, false);
        b.sstore(MINE, tid(0), f(0)); // not a barrier: the kernel ends without one
        Kernel unchecked = new Kernel("cluster_probe", List.of(OUT), List.of(), List.of(MINE), b.build(), new int[] {64, 1, 1}, new Expr[] {c(8), c(1), c(1)}, Map.of(), "probe");
        var after = assertThrows(IllegalStateException.class, () -> run(unchecked));
        assertTrue(after.getMessage().contains("after the last cluster barrier") || after.getMessage().contains("read by another block of the cluster, then written"), after.getMessage());
    }

    @Test
    void aWriteAfterAnotherBlockReadTheWordNeedsABarrierBetween() {
        var e = assertThrows(IllegalStateException.class, () -> run(kernel(b -> {
            b.sstore(MINE, tid(0), f(1));
            b.clusterBarrier(4, 1, 1);
            b.storeF(OUT, add(mul(bid(0), c(64)), tid(0)), sloadCluster(MINE, mod(add(mod(bid(0), c(4)), c(1)), c(4)), tid(0)));
            b.sstore(MINE, tid(0), f(2)); // block 1 rewrites the word block 0 has just read
            b.clusterBarrier(4, 1, 1);
        }, CUDA)));
        assertTrue(e.getMessage().contains("read by another block of the cluster, then written"), e.getMessage());
    }

    @Test
    void theCheckRefusesMisplacedBarriersAndTargetsWithoutClusters() {
        var nested = assertThrows(IllegalStateException.class, () -> kernel(b -> b.ifThen(lt(tid(0), c(64)), x -> x.clusterBarrier(4, 1, 1)), CUDA));
        assertTrue(nested.getMessage().contains("inside a loop or branch"), nested.getMessage());
        var noEnd = assertThrows(IllegalStateException.class, () -> kernel(b -> neighbours(b, true, false), CUDA));
        assertTrue(noEnd.getMessage().contains("must end at a cluster barrier"), noEnd.getMessage());
        var twoShapes = assertThrows(IllegalStateException.class, () -> kernel(b -> {
            b.clusterBarrier(2, 1, 1);
            neighbours(b, true, true);
        }, CUDA));
        assertTrue(twoShapes.getMessage().contains("two shapes"), twoShapes.getMessage());
        var grid = assertThrows(IllegalStateException.class, () -> {
            K.Body b = new K.Body();
            neighbours(b, true, true);
            Kernel.checked("cluster_probe", List.of(OUT), List.of(), List.of(MINE), b.build(), new int[] {64, 1, 1}, new Expr[] {c(6), c(1), c(1)}, Map.of(), "probe", 0, CUDA);
        });
        assertTrue(grid.getMessage().contains("multiple of its cluster"), grid.getMessage());
        for (String t : new String[] {"vulkan", "rocm:gfx90a", "cuda:sm_80"}) {
            var e = assertThrows(IllegalStateException.class, () -> kernel(b -> neighbours(b, true, true), Target.parse(t).caps()));
            assertTrue(e.getMessage().contains("clusters") || e.getMessage().contains("distributed shared memory"), t + ": " + e.getMessage());
        }
        var tooLarge = assertThrows(IllegalArgumentException.class, () -> new Stmt.ClusterBarrier(16, 1, 1));
        assertTrue(tooLarge.getMessage().contains("1 to 8 blocks"), tooLarge.getMessage());
    }

    @Test
    void cudaPrintsTheClusterShapeTheBarrierAndTheLoadByRank() {
        String src = new CudaEmitter().emit(kernel(b -> neighbours(b, true, true), CUDA));
        assertTrue(src.contains("__cluster_dims__(4, 1, 1)"), src);
        assertTrue(src.contains("barrier.cluster.arrive.release.aligned") && src.contains("barrier.cluster.wait.acquire.aligned"), src);
        assertTrue(src.contains("(*jmlc_cluster_f32(&mine[") && src.contains("mapa.u64"), src);
    }
}
