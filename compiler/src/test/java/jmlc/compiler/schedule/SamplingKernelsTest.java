package jmlc.compiler.schedule;

import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.kernel.KernelSimulator;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.target.Target;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The device-side sampling kernels on the simulator against host computations in double. */
class SamplingKernelsTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run

    static MemorySegment floats(Arena a, float[] v) {
        MemorySegment s = a.allocate(4L * v.length, 16);
        for (int i = 0; i < v.length; i++) s.setAtIndex(GroupQuantizer.F32, i, v[i]);
        return s;
    }

    /** Subgroups of 32 (NVIDIA, RDNA) and 64 (CDNA), and a 256-thread block limit (small GPUs). */
    static Stream<Capabilities> gpus() {
        return Stream.of(Target.parse("cuda:sm_90").caps(), Target.parse("rocm:gfx90a").caps(),
                new Capabilities(32, 256, 16384, 8, true, Capabilities.MatrixUnit.NONE, false, false, false));
    }

    @ParameterizedTest
    @MethodSource("gpus")
    void argmaxPicksTheLargestAndTheFirstOfTies(Capabilities caps) {
        Random r = new Random(SEED);
        try (Arena a = Arena.ofShared()) {
            // a vocabulary under one batch per thread, and one of several batches with a ragged end
            for (int trial = 0; trial < 8; trial++) {
                int vocab = trial < 4 ? 3000 : 20001;
                float[] logits = new float[vocab];
                for (int i = 0; i < vocab; i++) logits[i] = (float) r.nextGaussian();
                int best = r.nextInt(vocab - 1);
                logits[best] = 10;
                if (trial % 4 == 2) logits[vocab - 1] = 10; // a tie: the smaller id wins
                // a tie in the same thread's later load
                int threads = SamplingKernels.threads(caps);
                if (trial % 4 == 3 && best + threads < vocab) logits[best + threads] = 10;
                MemorySegment out = a.allocate(4);
                new KernelSimulator(caps.subgroupSize()).launch(SamplingKernels.argmax(vocab, caps), Map.of("logits", floats(a, logits), "out", out), Map.of());
                assertEquals(best, out.get(GroupQuantizer.U32, 0), "seed " + SEED);
                assertFedBack(a, caps, SamplingKernels.argmaxAndAdvance(vocab, caps), Map.of("logits", floats(a, logits)), best, trial);
            }
        }
    }

    /**
     * The advance form of a sampling kernel chooses the same token and feeds it back: out[0] and
     * tokens[0] the choice, pos[0] one past what it was (a stale token in tokens[0] before).
     */
    static void assertFedBack(Arena a, Capabilities caps, jmlc.compiler.kernel.Kernel k, Map<String, MemorySegment> inputs, int expected, int position) {
        MemorySegment out = a.allocate(4), tokens = a.allocate(4), pos = a.allocate(4);
        tokens.set(GroupQuantizer.U32, 0, 12345);
        pos.set(GroupQuantizer.U32, 0, position);
        Map<String, MemorySegment> buffers = new java.util.HashMap<>(inputs);
        buffers.putAll(Map.of("out", out, "tokens", tokens, "pos", pos));
        new KernelSimulator(caps.subgroupSize()).launch(k, buffers, Map.of());
        assertEquals(expected, out.get(GroupQuantizer.U32, 0), k.name() + ": out[0], seed " + SEED);
        assertEquals(expected, tokens.get(GroupQuantizer.U32, 0), k.name() + ": tokens[0], the next step's input, seed " + SEED);
        assertEquals(position + 1, pos.get(GroupQuantizer.U32, 0), k.name() + ": pos[0], seed " + SEED);
    }

    @ParameterizedTest
    @MethodSource("gpus")
    void sampleIsTheInverseCdfOfTheTemperedSoftmax(Capabilities caps) {
        Random r = new Random(SEED);
        int vocab = 2500;
        float temperature = 0.8f;
        try (Arena a = Arena.ofShared()) {
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) logits[i] = (float) (2 * r.nextGaussian());
            for (int trial = 0; trial < 4; trial++) {
                double u = r.nextDouble();
                // expected: smallest k with cumulative probability > u (in double)
                double max = Double.NEGATIVE_INFINITY, total = 0;
                for (float l : logits) max = Math.max(max, l);
                double[] p = new double[vocab];
                for (int i = 0; i < vocab; i++) total += p[i] = Math.exp((logits[i] - max) / temperature);
                double acc = 0;
                int expected = vocab - 1;
                for (int i = 0; i < vocab; i++) {
                    acc += p[i] / total;
                    if (acc > u) {
                        expected = i;
                        break;
                    }
                }
                // stay clear of boundaries, where f32 and f64 sums may disagree
                double lo = acc - p[expected] / total;
                if (u - lo < 1e-4 || acc - u < 1e-4) continue;
                MemorySegment out = a.allocate(4);
                MemorySegment params = floats(a, new float[] {1 / temperature, (float) u});
                new KernelSimulator(caps.subgroupSize()).launch(SamplingKernels.sample(vocab, caps),
                        Map.of("logits", floats(a, logits), "params", params, "out", out), Map.of());
                assertEquals(expected, out.get(GroupQuantizer.U32, 0), "u = " + u + ", seed " + SEED);
                assertFedBack(a, caps, SamplingKernels.sampleAndAdvance(vocab, caps), Map.of("logits", floats(a, logits), "params", params), expected, trial);
            }
        }
    }
}
