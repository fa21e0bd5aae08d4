package jmlc.compiler.schedule.rule;

import jmlc.compiler.TinyModel;
import jmlc.compiler.build.Build;
import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Precision;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.schedule.SimulatedExecutor;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decode attention schedules through the kernel simulator, against the reference interpreter:
 * whole-model logits of a model of 4 query heads on 2 KV heads (two query heads a block), at
 * decode steps 0 to 40 of a 64-position context, so every remainder of positions over splits,
 * warps and keys comes up. Fresh random weights and tokens each run.
 */
class AttentionDecodeTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run
    static final int CONTEXT = 64, STEPS = 41;

    /**
     * The combine past one group of splits: 48 splits are merged in groups of 32 and 16, the second
     * rescaling what the first summed when its max is higher. Up to 48 positions each split holds
     * one, so the second group is not empty from position 33 on.
     */
    @Test
    void fortyEightSplitsMergeInTwoGroups() {
        decodeMatchesInterpreter(Map.of("splits", 48), "_s48_combine", "48 splits");
    }

    /**
     * One split: a block per KV head scores every position with its warps (32 here, most of them
     * idle early on) and writes the output itself; the program has no combine kernel.
     */
    @ParameterizedTest
    @CsvSource({"2, 32, 1", "1, 8, 0"})
    void oneSplitWritesTheOutputWithoutACombine(int keys, int warps, int fuseRope) {
        decodeMatchesInterpreter(Map.of("keys", keys, "warps", warps, "splits", 1, "fuse_rope", fuseRope),
                "_w" + warps + "s1" + (keys == 1 ? "" : "k" + keys), "one split, " + warps + " warps");
        Program decode = decodeProgram(Map.of("keys", keys, "warps", warps, "splits", 1, "fuse_rope", fuseRope));
        assertTrue(decode.kernels().stream().noneMatch(k -> k.name().contains("combine")), decode.kernels().toString());
        assertTrue(decode.kernels().stream().anyMatch(k -> k.name().contains("_single")), decode.kernels().toString());
    }

    /**
     * One position a warp a loop step, and several ({@code keys}): a split's positions rarely divide into
     * warps x keys, so a warp's last step holds keys past the split's end (they must weigh nothing),
     * some warps get no step at all, and the running sums are rescaled once a step; with the
     * attention absorbing rope_kv_append and without.
     */
    @ParameterizedTest
    @CsvSource({"1, 4, 32, 1", "2, 2, 1, 1", "3, 4, 4, 1", "4, 1, 2, 0", "4, 4, 32, 1", "8, 2, 3, 0"})
    void keysAStep(int keys, int warps, int splits, int fuseRope) {
        decodeMatchesInterpreter(Map.of("keys", keys, "warps", warps, "splits", splits, "fuse_rope", fuseRope),
                "_w" + warps + "s" + splits + (keys == 1 ? "_" : "k" + keys), String.format("keys %d, warps %d, splits %d, fuse_rope %d", keys, warps, splits, fuseRope));
    }

    /** The tiny model's decode program with {@code attention} as every attention's knobs. */
    private static Program decodeProgram(Map<String, Integer> attention) {
        return decodeProgram(attention, passes(unfused(config())));
    }

    private static ModelConfig config() {
        return TinyModel.config(Architecture.LLAMA, 1, 4, 2, false);
    }

    private static Graph unfused(ModelConfig c) {
        return ModelGraph.build(c, new ModelGraph.Options(CONTEXT, QuantMode.Q4F16_1.kvCacheType(), false));
    }

    private static Pipeline.Result passes(Graph unfused) {
        return new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), java.util.Set.of(), 8).run(unfused);
    }

    private static Program decodeProgram(Map<String, Integer> attention, Pipeline.Result res) {
        Target t = Target.parse("cuda:sm_90");
        Knobs knobs = Knobs.defaults();
        for (Node n : res.graph().nodes())
            if (n.op() instanceof Op.Attention) knobs.put(new KernelSignature(AttentionDecodeRule.KIND, AttentionDecodeRule.shape(n), t), attention);
        return Build.compile(res.graph(), t, knobs, CONTEXT).decode();
    }

    /** Compiles the decode program with {@code attention} as every attention's knobs (a kernel named with {@code tag} must come of it) and runs it beside the interpreter. */
    private static void decodeMatchesInterpreter(Map<String, Integer> attention, String tag, String what) {
        ModelConfig c = config();
        Graph unfused = unfused(c);
        Pipeline.Result res = passes(unfused);
        Program decode = decodeProgram(attention, res);
        assertTrue(decode.kernels().stream().anyMatch(k -> k.name().contains(tag)), what + ": a kernel named *" + tag + "*: " + decode.kernels());
        TinyModel m = new TinyModel(c, unfused, SEED);
        Random r = new Random(SEED);
        try (Arena a = Arena.ofShared(); var sim = new SimulatedExecutor(decode, res.memory(), m.weights(res.graph(), a), CONTEXT)) {
            var ref = new ReferenceInterpreter(res.graph(), m.weights(res.graph(), a));
            var st = new ReferenceInterpreter.State();
            for (int pos = 0; pos < STEPS; pos++) {
                int[] tok = {r.nextInt(c.vocabSize())};
                float[] want = ref.run(tok, pos, st), got = sim.run(decode, tok, pos);
                double rel = TinyModel.relError(got, want), tol = Precision.wholeModel(decode);
                assertTrue(rel <= tol, String.format("%s, position %d: logits rel. error %.2e > %.1e (seed %d)", what, pos, rel, tol, SEED));
            }
        }
    }
}
