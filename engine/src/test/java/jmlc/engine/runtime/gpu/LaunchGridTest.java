package jmlc.engine.runtime.gpu;

import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.target.Target;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.model.CheckpointWeights;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.runtime.sim.SimulatedDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Persistent grids fitted to the blocks a device keeps resident: the arithmetic, and a model run that way. */
class LaunchGridTest {

    @Test
    void aPersistentGridPastTheResidentBlocksIsDealtOverTheFewestTilesAMultiprocessor() {
        // the 7B GEMVs through NVIDIA's Vulkan driver: 2 blocks of 256 threads an SM on 132 SMs
        assertArrayEquals(new int[] {132, 1, 1}, LaunchGrid.dealt(new int[] {384, 1, 1}, 384, 2, 132), "qkv: 3 tiles an SM, not 192 blocks with 4 on 60 SMs");
        assertArrayEquals(new int[] {132, 1, 1}, LaunchGrid.dealt(new int[] {344, 1, 1}, 344, 2, 132), "gate/up: 3 an SM at most");
        assertArrayEquals(new int[] {264, 1, 1}, LaunchGrid.dealt(new int[] {500, 1, 1}, 500, 2, 132), "LM head: 4 an SM either way, the more blocks");
        assertArrayEquals(new int[] {344, 1, 1}, LaunchGrid.dealt(new int[] {344, 1, 1}, 688, 4, 132), "fits: unchanged");
        assertArrayEquals(new int[] {344, 1, 1}, LaunchGrid.dealt(new int[] {344, 1, 1}, 688, 0, 132), "residency unknown: unchanged");
        assertArrayEquals(new int[] {344, 1, 1}, LaunchGrid.dealt(new int[] {344, 1, 1}, 0, 2, 132), "not persistent: unchanged");
        // rows of the grid share the resident blocks: 2 rows of 100 each get 50
        assertArrayEquals(new int[] {50, 2, 1}, LaunchGrid.dealt(new int[] {100, 2, 1}, 100, 1, 100));
        // never fewer than one block a row
        assertArrayEquals(new int[] {1, 8, 1}, LaunchGrid.dealt(new int[] {10, 8, 1}, 10, 1, 4));
        for (int tiles = 1; tiles < 300; tiles++)
            for (int perSm = 1; perSm <= 4; perSm++)
                for (int sms = 1; sms < 20; sms++) {
                    int[] g = LaunchGrid.dealt(new int[] {tiles, 1, 1}, tiles, perSm, sms);
                    String what = tiles + " tiles on " + sms + " SMs of " + perSm + " blocks";
                    assertTrue(g[0] >= 1 && g[0] <= Math.max(tiles <= perSm * sms ? tiles : 0, perSm * sms), what + ": " + g[0] + " blocks");
                    // no grid that fits would leave its busiest multiprocessor fewer tiles
                    long busiest = busiest(g[0], tiles, sms);
                    for (int b = 1; b <= Math.min(tiles, perSm * sms); b++)
                        assertTrue(busiest <= busiest(b, tiles, sms), what + ": " + g[0] + " blocks against " + b);
                }
    }

    private static long busiest(int blocks, int tiles, int sms) {
        return (long) ((blocks + sms - 1) / sms) * ((tiles + blocks - 1) / blocks);
    }

    @Test
    void aModelWhosePersistentGridsRunOnTwoResidentBlocksGivesTheSameLogits(@TempDir Path dir) {
        ModelConfig c = GpuRunnerSimulatedTest.config();
        try (Checkpoint ck = GpuRunnerSimulatedTest.tinyCheckpoint(dir, c)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), 8);
            SimulatedDevice planned = new SimulatedDevice(Target.parse("cuda:sm_90"));
            SimulatedDevice fitted = new SimulatedDevice(Target.parse("cuda:sm_90"));
            fitted.residency(1, 2);
            int[] prompt = new Random(GpuRunnerSimulatedTest.SEED).ints(3, 0, c.vocabSize()).toArray();
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                 GpuRunner a = GpuRunnerSimulatedTest.runner(planned, cm, w, Knobs.defaults());
                 GpuRunner b = GpuRunnerSimulatedTest.runner(fitted, cm, w, Knobs.defaults())) {
                long plannedBefore = planned.blocks(), fittedBefore = fitted.blocks();
                assertArrayEquals(a.forward(prompt, 0), b.forward(prompt, 0), "prompt, seed " + GpuRunnerSimulatedTest.SEED);
                for (int pos = 3; pos < 6; pos++)
                    assertArrayEquals(a.forward(new int[] {pos}, pos), b.forward(new int[] {pos}, pos), "decode at " + pos);
                // the same rows, computed by fewer blocks each taking more tiles
                assertTrue(fitted.blocks() - fittedBefore < planned.blocks() - plannedBefore,
                        "blocks launched: " + (fitted.blocks() - fittedBefore) + " fitted against " + (planned.blocks() - plannedBefore));
            }
        }
    }

    /** A kernel with grid barriers waits for every block, so its grid must fit what stays resident; rows beyond it are refused, not hung. */
    @Test
    void aKernelWithGridBarriersNeverGetsMoreBlocksThanStayResident() {
        jmlc.compiler.kernel.Buffer counter = new jmlc.compiler.kernel.Buffer("counter", jmlc.compiler.kernel.KType.U32, false);
        jmlc.compiler.kernel.K.Body b = new jmlc.compiler.kernel.K.Body();
        b.gridBarrier(counter);
        Target t = Target.parse("cuda:sm_90");
        var k = jmlc.compiler.kernel.Kernel.checked("barrier_rows", java.util.List.of(counter), java.util.List.of(jmlc.compiler.kernel.K.var("seq", jmlc.compiler.kernel.KType.I32)),
                java.util.List.of(), b.build(), new int[] {64, 1, 1}, new jmlc.compiler.kernel.Expr[] {jmlc.compiler.kernel.K.c(8), jmlc.compiler.kernel.K.var("seq", jmlc.compiler.kernel.KType.I32), jmlc.compiler.kernel.K.c(1)},
                java.util.Map.of(), "a grid barrier over seq rows", 8, t.caps());
        SimulatedDevice dev = new SimulatedDevice(t);
        dev.residency(2, 2); // 4 blocks at once
        GpuDevice.LoadedKernel loaded = dev.load(k, t.codegen().emit(k));
        assertArrayEquals(new int[] {4, 1, 1}, LaunchGrid.of(loaded, java.util.Map.of("seq", 1)), "one row: its tiles dealt over the 4 resident blocks");
        var e = assertThrows(IllegalStateException.class, () -> LaunchGrid.of(loaded, java.util.Map.of("seq", 5)));
        assertTrue(e.getMessage().contains("barrier_rows has grid barriers") && e.getMessage().contains("the device holds 4"), e.getMessage());
    }
}
