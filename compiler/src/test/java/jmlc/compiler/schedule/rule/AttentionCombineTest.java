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

import java.lang.foreign.Arena;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decode attention's combine past one group of splits: 48 splits are merged in groups of 32
 * and 16, the second rescaling what the first summed when its max is higher. Up to 48 positions
 * each split holds one, so the second group is not empty from position 33 on (41 steps are run). Whole-model logits of every
 * step against the reference interpreter, through the kernel simulator; fresh random weights.
 */
class AttentionCombineTest {
    static final long SEED = System.nanoTime();

    @Test
    void fortyEightSplitsMergeInTwoGroups() {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 1, 4, 2, false);
        Graph unfused = ModelGraph.build(c, new ModelGraph.Options(64, QuantMode.Q4F16_1.kvCacheType(), false));
        Pipeline.Result res = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), java.util.Set.of(), 8).run(unfused);
        Target t = Target.parse("cuda:sm_90");
        Knobs knobs = Knobs.defaults();
        for (Node n : res.graph().nodes())
            if (n.op() instanceof Op.Attention) knobs.put(new KernelSignature(AttentionDecodeRule.KIND, AttentionDecodeRule.shape(n), t), Map.of("splits", 48));
        Program decode = Build.compile(res.graph(), t, knobs, 64).decode();
        assertTrue(decode.kernels().stream().anyMatch(k -> k.name().endsWith("_s48_combine")), "a 48-split combine: " + decode.kernels());
        TinyModel m = new TinyModel(c, unfused, SEED);
        Random r = new Random(SEED);
        try (Arena a = Arena.ofShared(); var sim = new SimulatedExecutor(decode, res.memory(), m.weights(res.graph(), a), 64)) {
            var ref = new ReferenceInterpreter(res.graph(), m.weights(res.graph(), a));
            var st = new ReferenceInterpreter.State();
            for (int pos = 0; pos < 41; pos++) {
                int[] tok = {r.nextInt(c.vocabSize())};
                float[] want = ref.run(tok, pos, st), got = sim.run(decode, tok, pos);
                double rel = TinyModel.relError(got, want), tol = Precision.wholeModel(decode);
                assertTrue(rel <= tol, String.format("position %d: logits rel. error %.2e > %.1e (seed %d)", pos, rel, tol, SEED));
            }
        }
    }
}
