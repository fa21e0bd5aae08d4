package jmlc.engine.runtime.gpu;

import jmlc.compiler.schedule.Precision;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.generate.Generator;
import jmlc.engine.runtime.ModelRunner;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Greedy tokens of a GPU runner against the CPU reference's. They must be equal, unless they part
 * where the reference's own logits for the two tokens are within the decode program's stated
 * tolerance: f16 arithmetic may then fall either way (random tiny models have many near-ties; a
 * plain equality failed about one run in ten).
 */
public final class GreedyAgreement {
    private GreedyAgreement() {}

    /**
     * Generates with {@code cfg} on both after {@code cached} and {@code prompt}, and compares the tokens;
     * true if they are equal, false if they part at a near-tie (the runners' caches then differ: a test
     * that goes on from them should stop).
     */
    public static boolean assertGreedyAgrees(GpuRunner gpu, ModelRunner cpu, int[] cached, int[] prompt, GenerationConfig cfg, String what) {
        int[] a = Generator.generate(gpu, cached, cached.length, prompt, cfg, t -> { }, () -> false).tokens();
        int[] b = Generator.generate(cpu, cached, cached.length, prompt, cfg, t -> { }, () -> false).tokens();
        return assertTokensAgree(a, b, gpu, cpu, cached, prompt, what);
    }

    /**
     * {@code gpuTokens} against {@code cpuTokens}, both generated after {@code cached} and {@code prompt}, compared
     * as long as both go; true if equal, false if they part at a near-tie (which runs the CPU runner again from position 0).
     */
    public static boolean assertTokensAgree(int[] gpuTokens, int[] cpuTokens, GpuRunner gpu, ModelRunner cpu, int[] cached, int[] prompt, String what) {
        int n = Math.min(gpuTokens.length, cpuTokens.length);
        int i = 0;
        while (i < n && gpuTokens[i] == cpuTokens[i]) i++;
        if (i == n) return true;
        int[] before = new int[cached.length + prompt.length + i];
        System.arraycopy(cached, 0, before, 0, cached.length);
        System.arraycopy(prompt, 0, before, cached.length, prompt.length);
        System.arraycopy(cpuTokens, 0, before, cached.length + prompt.length, i);
        float[] l = cpu.forward(before, 0);
        float scale = 0;
        for (float v : l) scale = Math.max(scale, Math.abs(v));
        double gap = Math.abs(l[gpuTokens[i]] - l[cpuTokens[i]]);
        assertTrue(gap <= Precision.wholeModel(gpu.decodeProgram()) * scale, "greedy tokens part at " + i + ": GPU " + Arrays.toString(gpuTokens)
                + " vs CPU " + Arrays.toString(cpuTokens) + ", CPU logits differ by " + gap + " (largest " + scale + "); " + what);
        return false;
    }
}
