package jmlc.compiler.schedule.rule;

import jmlc.compiler.TinyModel;
import jmlc.compiler.codegen.CudaEmitter;
import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Precision;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.schedule.SimulatedExecutor;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The f16 GEMV's prologue ({@link GemvHalfPrologue}) through the kernel simulator, where a thread stages several rounds
 * of words: whole decode steps against the reference interpreter, fresh random weights and tokens each run, within
 * {@link GemvMainLoopTest#SLACK} times Precision's whole-model bound. The cases: a norm held in registers over 3 rounds
 * and down's 6 rounds in one wave (a subgroup of 32 on rows of 768 and 1536); a partial last round (64 threads over
 * 352 words); a norm over 12 rounds, read again (subgroups of 8), and down's 24 rounds in 3 waves; silu·mul as down's
 * prologue (the gate/up epilogue left unfused: two rows of loads a round, waves of 4); dot4's bytes over a partial
 * last round; and a ring, with g loaded before the grid dependency's wait, and a norm's partial last round (64 threads over
 * 96 words); and knob {@code x_rounds} setting the waves (a norm of more rounds than a wave read again). o's and down's
 * x are f16 rows ({@code HalfMatmulInputs}, 8 values a load) but in the last two cases, which read them in f32.
 */
class GemvPrologueTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run

    static Stream<Arguments> cases() {
        ModelConfig small = GemvMainLoopTest.MODEL, whole = GemvMainLoopTest.WHOLE;
        return Stream.of(
                Arguments.of("cuda:sm_90", small, Set.of(), Map.of("warps", 1, "stages", 0)),
                Arguments.of("cuda:sm_90", whole, Set.of(), Map.of("warps", 2, "stages", 0)),
                Arguments.of("vulkan:sg8", small, Set.of(), Map.of("warps", 1)),
                Arguments.of("cuda:sm_90", small, Set.of("FuseSiluMulEpilogue"), Map.of("warps", 1, "stages", 0)),
                Arguments.of("cuda:sm_90", whole, Set.of(), Map.of("warps", 2, "stages", 0, "vector", 4, "dot4", 1)),
                Arguments.of("cuda:sm_90", small, Set.of(), Map.of("warps", 2, "stages", 4)),
                Arguments.of("cuda:sm_90", whole, Set.of(), Map.of("warps", 2, "stages", 5)),
                // knob x_rounds: waves of 2 over a norm's 3 rounds (read again) and down's 6; a round at a time over a partial one
                Arguments.of("cuda:sm_90", small, Set.of(), Map.of("warps", 1, "stages", 0, "x_rounds", 2)),
                Arguments.of("cuda:sm_90", whole, Set.of(), Map.of("warps", 2, "stages", 4, "x_rounds", 1)),
                // 4 rows a subgroup: gate/up writes its f16 outputs two pairs a store
                Arguments.of("cuda:sm_90", whole, Set.of(), Map.of("warps", 2, "stages", 4, "rows_per_warp", 4)),
                // o's and down's x in f32 (the other cases read them as f16): float4s, partial rounds, and dot4's bytes
                Arguments.of("cuda:sm_90", whole, Set.of("HalfMatmulInputs"), Map.of("warps", 2, "stages", 0)),
                Arguments.of("cuda:sm_90", small, Set.of("HalfMatmulInputs"), Map.of("warps", 2, "stages", 0, "vector", 4, "dot4", 1)));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void stagedRowsMatchTheReference(String target, ModelConfig c, Set<String> disabled, Map<String, Integer> gemv) {
        QuantMode mode = QuantMode.Q4F16_1;
        Graph unfused = ModelGraph.build(c, new ModelGraph.Options(16, mode.kvCacheType(), false));
        Pipeline.Result res = new Pipeline(Pipeline.standard(mode), disabled, 8).run(unfused);
        Program decode = GemvMainLoopTest.decode(res, Target.parse(target), gemv);
        List<String> gemvs = decode.kernels().stream().map(Kernel::name).filter(n -> n.startsWith("gemvh")).toList();
        assertTrue(gemvs.size() >= 3 && gemvs.stream().allMatch(n -> n.contains("_w" + gemv.get("warps"))), "every f16 GEMV with " + gemv + ": " + gemvs);
        if (disabled.contains("FuseSiluMulEpilogue"))
            assertTrue(gemvs.stream().anyMatch(n -> n.contains("_silumul")), "down with silu·mul as its prologue: " + gemvs);
        long halfRows = decode.kernels().stream().filter(k -> k.name().startsWith("gemvh"))
                .filter(k -> k.buffers().stream().anyMatch(b -> b.name().equals("x") && b.element().equals(jmlc.compiler.kernel.KType.F16))).count();
        boolean half = !disabled.contains("HalfMatmulInputs") && !disabled.contains("FuseSiluMulEpilogue");
        assertTrue(half ? halfRows >= 2 : disabled.contains("HalfMatmulInputs") ? halfRows == 0 : halfRows >= 1,
                "GEMVs reading an f16 x (o's, down's) with " + disabled + ": " + halfRows);
        if (half && gemv.getOrDefault("rows_per_warp", 0) == 4) { // gate/up's f16 outputs go out two pairs a 4-byte store
            Kernel gateUp = decode.kernels().stream().filter(k -> k.name().startsWith("gemvh") && k.name().contains("_silupairs")).findFirst().orElseThrow();
            String src = new CudaEmitter().emit(gateUp);
            assertTrue(gateUp.name().endsWith("_y16") && src.contains("((unsigned int*)y)["), gateUp.name() + "\n" + src);
        }
        TinyModel m = new TinyModel(c, unfused, SEED);
        Random r = new Random(SEED);
        try (Arena a = Arena.ofShared(); var sim = new SimulatedExecutor(decode, res.memory(), m.weights(res.graph(), a), 8)) {
            var ref = new ReferenceInterpreter(res.graph(), m.weights(res.graph(), a));
            var st = new ReferenceInterpreter.State();
            for (int i = 0; i < 2; i++) {
                int[] tok = {r.nextInt(c.vocabSize())};
                float[] want = ref.run(tok, i, st), got = sim.run(decode, tok, i);
                double rel = TinyModel.relError(got, want), tol = GemvMainLoopTest.SLACK * Precision.wholeModel(decode);
                assertTrue(rel <= tol, String.format("%s %s %s position %d: logits rel. error %.2e > %.1e (seed %d)", target, disabled, gemv, i, rel, tol, SEED));
            }
        }
    }

    /**
     * A norm held in registers loads g (a weight) before the grid dependency's wait, in flight while the kernel before
     * finishes, and x after it. Read off the CUDA source: the simulator runs kernels one after another.
     */
    @Test
    void gIsLoadedBeforeTheWaitWhereTheNormIsHeldInRegisters() {
        Pipeline.Result res = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), Set.of(), 8)
                .run(ModelGraph.build(GemvMainLoopTest.MODEL, new ModelGraph.Options(16, QuantMode.Q4F16_1.kvCacheType(), false)));
        Target t = Target.parse("cuda:sm_90");
        // 768 columns: 96 words; 32 threads take 3 rounds (held), 8 threads would take 12 (read again)
        for (int warps : new int[] {1, 4}) {
            int checked = 0;
            for (Kernel k : GemvMainLoopTest.decode(res, t, Map.of("warps", warps, "stages", 4)).kernels()) {
                if (!k.name().startsWith("gemvh") || !k.name().contains("_norm")) continue;
                String src = new CudaEmitter().emit(k);
                int gLoad = src.indexOf("(const float4*)g)"), wait = src.indexOf("griddepcontrol.wait"), xLoad = src.indexOf("(const float4*)x)");
                assertTrue(gLoad >= 0 && wait >= 0 && xLoad > wait, k.name() + "\n" + src);
                assertTrue(gLoad < wait, k.name() + ": g before the wait (" + GemvHalfPrologue.rounds(768, 32 * warps) + " rounds held)\n" + src);
                checked++;
            }
            assertTrue(checked >= 2, "qkv, gate/up and the LM head have a norm");
        }
        assertTrue(GemvHalfPrologue.normInRegisters(768, 32) && !GemvHalfPrologue.normInRegisters(768, 8), "768 columns: held with 32 threads, not with 8");
    }
}
