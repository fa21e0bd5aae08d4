package jmlc.engine.runtime.gpu;

import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.target.Target;
import jmlc.engine.runtime.sim.SimulatedDevice;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static jmlc.compiler.kernel.K.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Counter dependencies ({@link CounterDependency}): which launch of a step waits on which word, and the simulated
 * device's check of the words (what would hang or race on a GPU fails the launch there).
 */
class CounterDependencyTest {
    private static final Target SM90 = Target.parse("cuda:sm_90");
    private static final Buffer OUT = new Buffer("out", KType.F32, false);

    /** out[block * 32 + t] = 1; where {@code returns}, threads past 16 return first (so its blocks cannot count). */
    private static Kernel kernel(String name, boolean returns) {
        K.Body b = new K.Body();
        if (returns) b.ifThen(ge(tid(0), c(16)), x -> x.ret());
        b.store(OUT, add(mul(bid(0), c(32)), tid(0)), f(1));
        return Kernel.checked(name, List.of(OUT), List.of(), List.of(), b.build(), new int[] {32, 1, 1}, new Expr[] {c(4), c(1), c(1)}, Map.of(), "out = 1", SM90.caps());
    }

    @Test
    void aLaunchWaitsOnTheWordOfTheOneBeforeWhereBothCount() {
        Kernel a = kernel("a", false), b = kernel("b", false), r = kernel("r", true), d = kernel("d", false);
        assertTrue(a.countsFinishedBlocks() && !r.countsFinishedBlocks() && r.waitsForGridDependency());
        List<CounterDependency> plan = CounterDependency.plan(List.of(a, b, r, d, a), List.of(new int[] {4, 1, 1}, new int[] {3, 2, 1}, new int[] {5, 1, 1},
                new int[] {7, 1, 1}, new int[] {2, 1, 1}), 1000);
        assertEquals(List.of(new CounterDependency(0, 0, 1000), // the step's first: the grid's wait (nothing counted before it)
                new CounterDependency(1000, 4, 1004),               // a's 4 blocks
                new CounterDependency(0, 0, 0),                     // r returns early: the grid's wait, and no count
                new CounterDependency(0, 0, 1012),                  // after r: the grid's wait, but it counts for the next
                new CounterDependency(1012, 7, 1016)), plan);
        assertEquals(20, CounterDependency.bytes(5));
        assertThrows(IllegalArgumentException.class, () -> new CounterDependency(1000, 0, 0), "a word without its blocks");
    }

    /** Two launches of {@code first} and {@code second} with {@code plan}'s dependencies, captured and replayed {@code replays} times. */
    private static void run(SimulatedDevice dev, boolean zero, int afterBlocksOff, int replays) {
        var k1 = dev.load(kernel("first", false), "first"); // the simulator runs the IR; the source only has to name the kernel
        var k2 = dev.load(kernel("second", false), "second");
        long out = dev.alloc(4L * 32 * 4, "out"), words = dev.alloc(CounterDependency.bytes(2), "words");
        dev.zero(words, CounterDependency.bytes(2));
        var plan = CounterDependency.plan(List.of(k1.kernel(), k2.kernel()), List.of(new int[] {4, 1, 1}, new int[] {4, 1, 1}), words);
        var second = new CounterDependency(plan.get(1).after(), plan.get(1).afterBlocks() + afterBlocksOff, plan.get(1).done());
        var l1 = dev.prepare(k1, new long[] {out}, false, plan.get(0));
        var l2 = dev.prepare(k2, new long[] {out}, true, second);
        var step = dev.capture(() -> {
            if (zero) dev.zero(words, CounterDependency.bytes(2));
            l1.launch(new int[] {4, 1, 1}, new int[0]);
            l2.launch(new int[] {4, 1, 1}, new int[0]);
        });
        for (int i = 0; i < replays; i++) step.replay();
    }

    @Test
    void theSimulatedDeviceFailsWhatWouldHangOrRaceOnAGpu() {
        assertTrue(new SimulatedDevice(SM90).counterDependencies());
        run(new SimulatedDevice(SM90), true, 0, 3); // zeroed each replay, the right blocks: passes
        var hang = assertThrows(GpuException.class, () -> run(new SimulatedDevice(SM90), true, 1, 1));
        assertTrue(hang.getMessage().contains("second") && hang.getMessage().contains("waits for 5 finished blocks") && hang.getMessage().contains("until it traps"), hang.getMessage());
        var race = assertThrows(GpuException.class, () -> run(new SimulatedDevice(SM90), false, 0, 2));
        assertTrue(race.getMessage().contains("did not zero its words"), race.getMessage());
        run(new SimulatedDevice(SM90), false, 0, 1); // one replay after the allocation's zeroing: fine
    }
}
