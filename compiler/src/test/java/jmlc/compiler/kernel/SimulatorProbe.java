package jmlc.compiler.kernel;

import jmlc.compiler.quant.GroupQuantizer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/** Runs a probe kernel whose one buffer, {@code out}, is {@code words} u32 words, and returns them. */
final class SimulatorProbe {
    private SimulatorProbe() {}

    static int[] run(Kernel k, int words) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(4L * words, 16);
            new KernelSimulator(32).launch(k, Map.of("out", out), Map.of());
            int[] v = new int[words];
            for (int i = 0; i < words; i++) v[i] = out.getAtIndex(GroupQuantizer.U32, i);
            return v;
        }
    }
}
