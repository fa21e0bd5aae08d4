package jmlc.compiler.schedule.rule;

import jmlc.compiler.TinyModel;
import jmlc.compiler.build.Build;
import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Precision;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.schedule.SimulatedExecutor;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The 8-bit GEMV by integer dot products against x quantized to bytes, on the kernel simulator,
 * against the reference interpreter: whole-model logits of a tiny q8f16 model over decode steps,
 * within the precision stated for it, and close to what the f32 GEMV (x exact) gives; a target
 * without dot products, and the knob at 0, take the f32 GEMV. Fresh random weights each run.
 */
class GemvDot4Test {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run
    static final int CONTEXT = 16;

    static ModelConfig config() {
        return TinyModel.config(Architecture.LLAMA, 2, 4, 2, false);
    }

    static Pipeline.Result passes(Graph unfused) {
        return new Pipeline(Pipeline.standard(QuantMode.Q8F16), java.util.Set.of(), 8).run(unfused);
    }

    /** Relative error of the decode program's logits against the reference, worst over positions 0 to 5. */
    static double worstDecodeError(Program decode, Pipeline.Result res, Graph unfused) {
        TinyModel m = new TinyModel(config(), unfused, SEED);
        Random r = new Random(SEED);
        double worst = 0;
        try (Arena a = Arena.ofShared(); var sim = new SimulatedExecutor(decode, res.memory(), m.weights(res.graph(), a), CONTEXT)) {
            var ref = new ReferenceInterpreter(res.graph(), m.weights(res.graph(), a));
            var st = new ReferenceInterpreter.State();
            for (int pos = 0; pos < 6; pos++) {
                int[] tok = {r.nextInt(config().vocabSize())};
                worst = Math.max(worst, TinyModel.relError(sim.run(decode, tok, pos), ref.run(tok, pos, st)));
            }
        }
        return worst;
    }

    @Test
    void eightBitWeightsByDotProductsMatchTheReference() {
        Graph unfused = ModelGraph.build(config(), new ModelGraph.Options(CONTEXT, QuantMode.Q8F16.kvCacheType(), false));
        Pipeline.Result res = passes(unfused);
        Target cuda = Target.parse("cuda:sm_90");
        assertTrue(cuda.caps().dot4());
        Program dot4 = Build.compile(res.graph(), cuda, Knobs.defaults(), CONTEXT).decode();
        long n = dot4.steps().stream().filter(s -> s.rule().equals("gemv_dot4")).count();
        assertTrue(n >= 4, "the q8 matmuls run by dot4: " + dot4.kernels());
        assertTrue(Build.compile(res.graph(), cuda, Knobs.defaults(), CONTEXT).source(
                dot4.kernels().stream().filter(k -> k.name().startsWith("gemv_dot4")).findFirst().orElseThrow().name()).contains("dp4a.s32.s32"));

        // the same matmuls in f32 with x exact: a target without dot products, and the knob at 0
        Program f32 = Build.compile(res.graph(), Target.parse("cuda:sm_60"), Knobs.defaults(), CONTEXT).decode();
        assertTrue(f32.steps().stream().noneMatch(s -> s.rule().equals("gemv_dot4")) && f32.steps().stream().anyMatch(s -> s.rule().equals("gemv")));
        Knobs off = Knobs.defaults();
        dot4.steps().stream().filter(s -> s.rule().equals("gemv_dot4"))
                .forEach(s -> off.put("gemv_dot4_" + GemvRule.shape(jmlc.compiler.ir.MatmulParts.of(s.node()).w()), java.util.Map.of("dot4", 0)));
        Program knobOff = Build.compile(res.graph(), cuda, off, CONTEXT).decode();
        assertTrue(knobOff.steps().stream().noneMatch(s -> s.rule().equals("gemv_dot4")), knobOff.kernels().toString());

        double eDot4 = worstDecodeError(dot4, res, unfused), eF32 = worstDecodeError(knobOff, res, unfused);
        System.out.printf("q8f16 decode logits, rel. error against the reference: dot4 %.2e, f32 GEMV %.2e (seed %d)%n", eDot4, eF32, SEED);
        assertTrue(eDot4 <= Precision.wholeModel(dot4), String.format("dot4: %.2e > %.1e (seed %d)", eDot4, Precision.wholeModel(dot4), SEED));
        assertTrue(eF32 < eDot4, "x in bytes costs precision the f32 GEMV does not lose");
    }
}
