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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decode attention scoring several positions a loop step ({@code keys}): a split's positions
 * rarely divide into warps x keys, so the last step of a warp holds keys past the split's end
 * (they must weigh nothing), some warps get no step at all, and the running sums are rescaled once
 * a step. A model of 4 query heads on 2 KV heads (two query heads a block), 41 decode steps, so
 * every remainder of keys and warps comes up; with the attention absorbing rope_kv_append and
 * without. Whole-model logits against the reference interpreter through the kernel simulator;
 * fresh random weights each run.
 */
class AttentionDecodeKeysTest {
    static final long SEED = System.nanoTime();

    @ParameterizedTest
    @CsvSource({"2, 2, 1, 1", "3, 4, 4, 1", "4, 1, 2, 0", "4, 4, 32, 1", "8, 2, 3, 0"})
    void keysAStepMatchTheInterpreter(int keys, int warps, int splits, int fuseRope) {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 1, 4, 2, false);
        Graph unfused = ModelGraph.build(c, new ModelGraph.Options(64, QuantMode.Q4F16_1.kvCacheType(), false));
        Pipeline.Result res = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), java.util.Set.of(), 8).run(unfused);
        Target t = Target.parse("cuda:sm_90");
        Knobs knobs = Knobs.defaults();
        for (Node n : res.graph().nodes())
            if (n.op() instanceof Op.Attention)
                knobs.put(new KernelSignature(AttentionDecodeRule.KIND, AttentionDecodeRule.shape(n), t),
                        Map.of("keys", keys, "warps", warps, "splits", splits, "fuse_rope", fuseRope));
        Program decode = Build.compile(res.graph(), t, knobs, 64).decode();
        String tag = "_w" + warps + "s" + splits + "k" + keys;
        assertTrue(decode.kernels().stream().anyMatch(k -> k.name().contains(tag) && k.name().endsWith("_partial")), tag + " partial kernel: " + decode.kernels());
        TinyModel m = new TinyModel(c, unfused, SEED);
        Random r = new Random(SEED);
        try (Arena a = Arena.ofShared(); var sim = new SimulatedExecutor(decode, res.memory(), m.weights(res.graph(), a), 64)) {
            var ref = new ReferenceInterpreter(res.graph(), m.weights(res.graph(), a));
            var st = new ReferenceInterpreter.State();
            for (int pos = 0; pos < 41; pos++) {
                int[] tok = {r.nextInt(c.vocabSize())};
                float[] want = ref.run(tok, pos, st), got = sim.run(decode, tok, pos);
                double rel = TinyModel.relError(got, want), tol = Precision.wholeModel(decode);
                assertTrue(rel <= tol, String.format("keys %d, warps %d, splits %d, fuse_rope %d, position %d: logits rel. error %.2e > %.1e (seed %d)",
                        keys, warps, splits, fuseRope, pos, rel, tol, SEED));
            }
        }
    }
}
