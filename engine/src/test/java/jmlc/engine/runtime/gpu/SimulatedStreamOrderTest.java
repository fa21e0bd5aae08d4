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
    private final SimulatedDevice dev = new SimulatedDevice(Target.parse("cuda:sm_90"));

    private void set(long word, int value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(4, 4);
            host.set(ValueLayout.JAVA_INT, 0, value);
            dev.upload(word, host, 4);
        }
    }

    private int get(long word) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(4, 4);
            dev.download(host, word, 4);
            return host.get(ValueLayout.JAVA_INT, 0);
        }
    }

    @Test
    void aZeroingCapturedInAGraphRunsAtEachReplay() {
        long word = dev.alloc(4, "word");
        set(word, 7);
        var zeroing = dev.capture(() -> dev.zero(word, 4));
        assertEquals(7, get(word), "capturing records the zeroing; it does not run it");
        zeroing.replay();
        assertEquals(0, get(word), "the replay zeroes");
        set(word, 9);
        zeroing.replay();
        assertEquals(0, get(word), "and every replay");
    }

    @Test
    void aCopyCapturedInAGraphRunsAtEachReplay() {
        long src = dev.alloc(4, "src"), dst = dev.alloc(4, "dst");
        set(src, 3);
        set(dst, 5);
        var copying = dev.capture(() -> dev.copy(dst, src, 4));
        assertEquals(5, get(dst), "capturing records the copy; it does not run it");
        set(src, 11);
        copying.replay();
        assertEquals(11, get(dst), "the replay copies what the source holds then");
    }
}
