package jmlc.engine.runtime.gpu;

import jmlc.compiler.target.Target;
import jmlc.engine.runtime.sim.SimulatedDevice;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The simulated device's zeroing and copies run in stream order, as CUDA's: one captured in a graph runs at each replay, not at capture. */
class SimulatedStreamOrderTest {

    @Test
    void aZeroingCapturedInAGraphRunsAtEachReplay() {
        SimulatedDevice dev = new SimulatedDevice(Target.parse("cuda:sm_90"));
        long word = dev.alloc(4, "word");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(4, 4);
            host.set(ValueLayout.JAVA_INT, 0, 7);
            dev.upload(word, host, 4);
            var zeroing = dev.capture(() -> dev.zero(word, 4));
            dev.download(host, word, 4);
            assertEquals(7, host.get(ValueLayout.JAVA_INT, 0), "capturing records the zeroing; it does not run it");
            zeroing.replay();
            dev.download(host, word, 4);
            assertEquals(0, host.get(ValueLayout.JAVA_INT, 0), "the replay zeroes");
            host.set(ValueLayout.JAVA_INT, 0, 9);
            dev.upload(word, host, 4);
            zeroing.replay();
            dev.download(host, word, 4);
            assertEquals(0, host.get(ValueLayout.JAVA_INT, 0), "and every replay");
        }
    }

    @Test
    void aCopyCapturedInAGraphRunsAtEachReplay() {
        SimulatedDevice dev = new SimulatedDevice(Target.parse("cuda:sm_90"));
        long src = dev.alloc(4, "src"), dst = dev.alloc(4, "dst");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(4, 4);
            host.set(ValueLayout.JAVA_INT, 0, 3);
            dev.upload(src, host, 4);
            host.set(ValueLayout.JAVA_INT, 0, 5);
            dev.upload(dst, host, 4);
            var copying = dev.capture(() -> dev.copy(dst, src, 4));
            dev.download(host, dst, 4);
            assertEquals(5, host.get(ValueLayout.JAVA_INT, 0), "capturing records the copy; it does not run it");
            host.set(ValueLayout.JAVA_INT, 0, 11);
            dev.upload(src, host, 4);
            copying.replay();
            dev.download(host, dst, 4);
            assertEquals(11, host.get(ValueLayout.JAVA_INT, 0), "the replay copies what the source holds then");
        }
    }
}
