package jmlc.engine.bench;

import jmlc.compiler.target.Target;
import jmlc.engine.runtime.sim.SimulatedDevice;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.*;

/** The launch-cost bench on the simulated GPU: every launch of every replay runs (its own check), and a time comes back. */
class LaunchCostTest {
    @Test
    void everyLaunchOfEveryReplayRunsAndIsTimed() {
        try (SimulatedDevice dev = new SimulatedDevice(Target.parse("cuda:sm_90")); Arena arena = Arena.ofConfined()) {
            double us = LaunchCost.perLaunch(dev, arena, 2, 5);
            assertTrue(us > 0 && Double.isFinite(us), "microseconds a launch: " + us);
        }
    }
}
