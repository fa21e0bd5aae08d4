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
    void aPersistentGridPastTheResidentBlocksIsDealtAgainEvenly() {
        // the 7B gate/up GEMV through NVIDIA's Vulkan driver: 688 tiles, 344 blocks planned, 2 of 256 threads an SM on 132 SMs
        assertArrayEquals(new int[] {230, 1, 1}, LaunchGrid.dealt(new int[] {344, 1, 1}, 688, 264), "3 tiles a block, one wave");
        assertArrayEquals(new int[] {192, 1, 1}, LaunchGrid.dealt(new int[] {384, 1, 1}, 384, 264), "qkv: 2 tiles a block");
        assertArrayEquals(new int[] {344, 1, 1}, LaunchGrid.dealt(new int[] {344, 1, 1}, 688, 528), "fits: unchanged");
        assertArrayEquals(new int[] {344, 1, 1}, LaunchGrid.dealt(new int[] {344, 1, 1}, 688, 0), "residency unknown: unchanged");
        assertArrayEquals(new int[] {344, 1, 1}, LaunchGrid.dealt(new int[] {344, 1, 1}, 0, 264), "not persistent: unchanged");
        // rows of the grid share the resident blocks: 2 rows of 100 each get 50
        assertArrayEquals(new int[] {50, 2, 1}, LaunchGrid.dealt(new int[] {100, 2, 1}, 100, 100));
        // never fewer than one block a row
        assertArrayEquals(new int[] {1, 8, 1}, LaunchGrid.dealt(new int[] {10, 8, 1}, 10, 4));
        for (int tiles = 1; tiles < 300; tiles++)
            for (int resident = 1; resident < 40; resident++) {
                int[] g = LaunchGrid.dealt(new int[] {tiles, 1, 1}, tiles, resident);
                int rounds = (tiles + g[0] - 1) / g[0];
                assertTrue(g[0] <= resident, tiles + " tiles over " + resident);
                assertEquals((tiles + resident - 1) / resident, rounds, "no more rounds than the resident blocks need: " + tiles + " over " + resident);
            }
    }

    @Test
    void aModelWhosePersistentGridsRunOnTwoResidentBlocksGivesTheSameLogits(@TempDir Path dir) {
        ModelConfig c = GpuRunnerSimulatedTest.config();
        try (Checkpoint ck = GpuRunnerSimulatedTest.tinyCheckpoint(dir, c)) {
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), 8);
            SimulatedDevice planned = new SimulatedDevice(Target.parse("cuda:sm_90"));
            SimulatedDevice fitted = new SimulatedDevice(Target.parse("cuda:sm_90"));
            fitted.residentBlocks(2);
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
}
