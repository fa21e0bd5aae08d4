package jmlc.compiler.schedule.rule;

import jmlc.compiler.TinyModel;
import jmlc.compiler.build.Build;
import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Precision;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.schedule.SimulatedExecutor;
import jmlc.compiler.schedule.Tunable;
import jmlc.compiler.target.Target;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The f16 GEMV's main-loop variants through the kernel simulator: odd nibbles shifted or in place
 * ({@code nibbles}), loads a batch ahead or not, within a tile or across tiles ({@code pipeline}), several chunks a batch
 * ({@code unroll}), over several loop iterations and a partial last batch. These change the
 * schedule, not the arithmetic: every variant's logits must equal, bit for bit, those of the
 * plain loop (shifted nibbles, one chunk a batch, nothing ahead) with the same words a lane and
 * rows a subgroup; and the plain loop must match the reference interpreter. A model of hidden size
 * 768 (96 u32 words a row) and 1536 intermediate: with 1 word a lane, a subgroup of 32 takes 3
 * iterations at unroll 1 and 2 at unroll 2, the second half empty; q4_0 (zero 8) beside q4f16_1
 * (zero 7). A ring of asynchronous copies ({@code stages}) moves the same words a lane. With {@code dot4} (x in bytes, the
 * nibbles by integer dot products) the plain loop is dot4's too, and the reference bound Precision's int8 one. Fresh random weights and tokens each run. Subgroups sharing a tile's rows ({@code ksplit})
 * add their partial sums in another order: those logits must equal the plain loop's up to rounding.
 */
class GemvMainLoopTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run
    /**
     * Whole-model logits against the interpreter: twice {@link Precision#wholeModel}. Its bound holds
     * for the tiny models of SimulatedProgramTest; here a lane's f16 chunk sums run over 32 products
     * of rows 768 and 1536 long, and one seed reached 1.3e-2 with 4 words a lane (1 word: 4.3e-3).
     */
    static final double SLACK = 2;
    /**
     * Subgroups sharing rows add f32 partial sums in another order than one subgroup does, so the
     * logits differ from the plain loop's by rounding: where an f32 sum moves by an ulp, a value the
     * next kernel rounds to f16 (a staged x, the f16 KV cache) may round the other way. Over 5 seeds
     * and 2 positions the difference ranged from 9e-8 (no such flip: f32 reassociation alone) to
     * 3.5e-4, and reached 5.9e-4 in another run. A part left out moved the logits by 0.28 to 1.2.
     */
    static final double SPLIT_TOLERANCE = 5e-3;

    /** Hidden size 768 (96 u32 words a row), 1536 intermediate, one layer (see the class comment). */
    static final ModelConfig MODEL = new ModelConfig(Architecture.LLAMA, 128, 768, 1536, 1, 6, 2, 128, 1e-5, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 64, false, false);

    static Stream<Arguments> variants() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (int nibbles = 0; nibbles <= 1; nibbles++)
            for (int pipeline = 0; pipeline <= 2; pipeline++)
                b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", nibbles, "pipeline", pipeline, "vector", 1, "unroll", 2)));
        // three blocks: several tiles each, so pipeline 2 carries loads across tiles (and past the last)
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 2, "vector", 1, "unroll", 1, "blocks", 3, "prefetch", 2)));
        for (String target : new String[] {"rocm:gfx90a", "vulkan:sg8"}) // wave64 with dot2; subgroups of 8
            b.add(Arguments.of(target, QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 2, "vector", 1, "unroll", 2, "blocks", 3)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4_0, Map.of("nibbles", 1, "pipeline", 2, "vector", 2, "unroll", 1, "blocks", 5)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 3, "rows_per_warp", 2, "stages", 0)));
        // subgroups sharing rows: 2 or 4 parts over 3 chunk stretches (the last parts with fewer or none),
        // several tiles a block, every pipeline; subgroups of 8 and wave64 too
        for (int pipeline = 0; pipeline <= 2; pipeline++)
            b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", pipeline, "vector", 1, "unroll", 1, "ksplit", 2, "blocks", 3)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 1, "unroll", 2, "ksplit", 4, "rows_per_warp", 2)));
        b.add(Arguments.of("vulkan:sg8", QuantMode.Q4_0, Map.of("nibbles", 1, "pipeline", 2, "vector", 2, "unroll", 1, "ksplit", 2, "blocks", 5)));
        b.add(Arguments.of("rocm:gfx90a", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 1, "unroll", 1, "ksplit", 2, "blocks", 3)));
        // a ring of asynchronous copies (cp.async): several tiles a block, so the copies run on into the next tile
        // and past the block's last; two chunks a batch with a partial last iteration; deeper than a block's batches
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 4, "stages", 3, "blocks", 3)));
        // the early trigger (dependent launches): after the iteration that issues a block's last batch; with 8 stages
        // a block's one tile is all copied before the loop, so the first iteration triggers
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 4, "stages", 4, "blocks", 3, "trigger", 1)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4_0, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "warps", 4, "stages", 2, "rows_per_warp", 2, "blocks", 5)));
        // the register loop's early trigger: as a block's last row tile begins (several tiles a block; the first batch
        // before the prologue or not)
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 4, "stages", 0, "blocks", 3, "trigger", 2)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 2, "vector", 4, "unroll", 1, "warps", 4, "stages", 0, "blocks", 3, "trigger", 2)));
        // the scales a word a lane (ring_scales 1; the default copies them in pieces where K is a multiple of 256)
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 0, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 2, "stages", 8, "rows_per_warp", 4, "trigger", 1, "ring_scales", 1)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "warps", 4, "stages", 3, "blocks", 3, "ring_scales", 0)));
        // x in bytes and the nibbles by dot4: the register loop and a ring (q4_0's zero 8, scales in registers), against the
        // plain loop with dot4 (the same integer sums in the same order): bit for bit
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "rows_per_warp", 2, "stages", 0, "dot4", 1)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4_0, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "warps", 4, "stages", 3, "blocks", 3, "ring_scales", 0, "dot4", 1)));
        // the ring's last first batch right after the wait (after_wait 1), its last two (2), through whole models
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 4, "stages", 4, "blocks", 3, "trigger", 1, "after_wait", 1)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "warps", 4, "stages", 3, "blocks", 3, "ring_scales", 1, "after_wait", 2)));
        // one batch copied before the wait and three once x is staged (before_wait 1); two before, one after the wait, one
        // once x is staged
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 4, "stages", 4, "blocks", 3, "trigger", 1, "before_wait", 1)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4_0, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "stages", 4, "trigger", 1, "before_wait", 2, "after_wait", 1)));
        // batches copied once x's first loads are issued (after_x): the last of a ring of 4 (the norm's x held in registers,
        // the f16 rows in one wave); the last two of 3 behind the exchanges' loads (x_coalesce 1), one before the wait; with
        // one right after the wait too; with x in waves of a round (64 threads: the norm's x read again, the f16 rows in two
        // waves, the copies after the first); by bulk copies
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 4, "stages", 4, "blocks", 3, "trigger", 1, "after_x", 1)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "warps", 4, "stages", 3, "blocks", 3, "ring_scales", 1, "after_x", 2, "x_coalesce", 1)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4_0, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "stages", 4, "trigger", 1, "after_wait", 1, "after_x", 1)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 2, "stages", 3, "blocks", 3, "x_rounds", 1, "after_x", 1)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 4, "stages", 4, "blocks", 3, "trigger", 1, "ring_copy", 1, "after_x", 1)));
        // an f32 x row (the norms') read as a subgroup's consecutive float4s and assembled by exchanges (x_coalesce 1): a
        // ring, its round partial (96 words, 256 threads); x and g read again after the reduction (2 rounds of 64 threads,
        // one a wave); subgroups of 8 and wave64
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "stages", 4, "trigger", 1, "x_coalesce", 1)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 2, "stages", 0, "x_rounds", 1, "x_coalesce", 1)));
        b.add(Arguments.of("vulkan:sg8", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 2, "vector", 1, "unroll", 2, "blocks", 3, "x_coalesce", 1)));
        b.add(Arguments.of("rocm:gfx90a", QuantMode.Q4_0, Map.of("nibbles", 1, "pipeline", 1, "vector", 2, "unroll", 1, "x_coalesce", 1)));
        // bulk copies by each subgroup's first lane on copy barriers (ring_copy 1): rows of 24 and 48 chunks, so a batch of
        // 32 is partial and the last of 64 too; the scales in spans beside the weights, or in registers (ring_scales 0)
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 4, "stages", 4, "blocks", 3, "trigger", 1, "ring_copy", 1)));
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4_0, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "warps", 4, "stages", 3, "blocks", 3, "ring_scales", 0, "ring_copy", 1)));
        // above 48 KiB a block (dynamic shared memory on CUDA): 6 stages of 8 subgroups, 4 rows each, 120 KiB
        b.add(Arguments.of("cuda:sm_90", QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 8, "stages", 6, "rows_per_warp", 4, "blocks", 2)));
        return b.build();
    }

    @ParameterizedTest
    @MethodSource("variants")
    void sameLogitsAsThePlainLoop(String target, QuantMode mode, Map<String, Integer> gemv) {
        sameLogitsAsThePlainLoop(MODEL, target, mode, gemv);
    }

    /**
     * Hidden size 1024 (32 chunks of 16 bytes a row: a subgroup's batch of one chunk a lane is whole), 2816 intermediate
     * (88 chunks: the down GEMV's last batch is partial), a vocabulary of 200 (the LM head's last tile of 32 rows is
     * partial, its rows clamped): a ring's copies without the checks where batches and tiles are whole, with them where not.
     */
    static final ModelConfig WHOLE = new ModelConfig(Architecture.LLAMA, 200, 1024, 2816, 1, 8, 2, 128, 1e-5, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 64, false, false);

    static Stream<Arguments> ringsOverWholeBatches() {
        return Stream.of(
                Arguments.of(QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 8, "stages", 4, "blocks", 5, "trigger", 1)),
                Arguments.of(QuantMode.Q4_0, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "warps", 4, "stages", 3, "rows_per_warp", 2, "blocks", 3, "ring_scales", 1)),
                // the scales in registers a batch ahead instead of in the ring
                Arguments.of(QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 8, "stages", 4, "blocks", 5, "trigger", 1, "ring_scales", 0)),
                Arguments.of(QuantMode.Q4_0, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "warps", 4, "stages", 2, "rows_per_warp", 2, "blocks", 3, "ring_scales", 0)),
                // the scales copied once a subgroup in 16-byte pieces (a lane reads its neighbours' copies): 16 pieces a batch
                // (4 rows, one chunk a lane), 32 (2 rows, two chunks: a piece every lane), 64 (8 rows: two rounds); the down
                // GEMV's partial last batch skips the pieces past its rows' end, the LM head's last tile clamps its rows
                Arguments.of(QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 8, "stages", 4, "blocks", 5, "trigger", 1, "rows_per_warp", 4, "ring_scales", 2)),
                Arguments.of(QuantMode.Q4_0, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "warps", 4, "stages", 3, "rows_per_warp", 2, "blocks", 3, "ring_scales", 2)),
                Arguments.of(QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "warps", 2, "stages", 2, "rows_per_warp", 8, "blocks", 7, "ring_scales", 2)),
                // batches copied right after the wait: one (pieces, the defaults otherwise), two of a ring of 3 (words, none
                // left before the wait but one), one of a ring of 2 (its second batch, which went out once x was staged)
                Arguments.of(QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 8, "stages", 4, "blocks", 5, "trigger", 1, "after_wait", 1)),
                Arguments.of(QuantMode.Q4_0, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "warps", 4, "stages", 3, "rows_per_warp", 2, "blocks", 3, "ring_scales", 1, "after_wait", 2)),
                Arguments.of(QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 8, "stages", 2, "blocks", 5, "trigger", 1, "after_wait", 1)),
                // one batch before the wait, the rest once x is staged
                Arguments.of(QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 8, "stages", 4, "blocks", 5, "trigger", 1, "before_wait", 1)),
                // the last batch copied once x's loads are issued (after_x 1), with sm_90's defaults otherwise
                Arguments.of(QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 8, "stages", 4, "blocks", 5, "trigger", 1, "after_x", 1)),
                // the norms' f32 rows by a subgroup's consecutive float4s (x_coalesce 1), 128 words over 256 threads
                Arguments.of(QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 8, "stages", 4, "blocks", 5, "trigger", 1, "x_coalesce", 1)),
                // bulk copies (ring_copy 1): whole batches of 32 chunks on the 1024-wide rows, the down GEMV's last of 88 partial,
                // the LM head's last tile clamped; with one batch before the wait; 8 rows a subgroup with one after it; a
                // deeper ring than the block's batches (its phases and parities past the first)
                Arguments.of(QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 8, "stages", 4, "blocks", 5, "trigger", 1, "ring_copy", 1)),
                Arguments.of(QuantMode.Q4_0, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "warps", 4, "stages", 3, "rows_per_warp", 2, "blocks", 3, "ring_copy", 1, "before_wait", 1)),
                Arguments.of(QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 2, "warps", 2, "stages", 2, "rows_per_warp", 8, "blocks", 7, "ring_copy", 1, "after_wait", 1)),
                // x in bytes (dot4): staged by 256 lanes over rows of 128 and 352 words (the last round partial)
                Arguments.of(QuantMode.Q4F16_1, Map.of("nibbles", 1, "pipeline", 1, "vector", 4, "unroll", 1, "warps", 8, "stages", 4, "blocks", 5, "trigger", 1, "dot4", 1)));
    }

    @ParameterizedTest
    @MethodSource("ringsOverWholeBatches")
    void ringsOverWholeBatchesMatchThePlainLoop(QuantMode mode, Map<String, Integer> gemv) {
        sameLogitsAsThePlainLoop(WHOLE, "cuda:sm_90", mode, gemv);
    }

    private static void sameLogitsAsThePlainLoop(ModelConfig c, String target, QuantMode mode, Map<String, Integer> gemv) {
        Graph unfused = ModelGraph.build(c, new ModelGraph.Options(16, mode.kvCacheType(), false));
        Pipeline.Result res = new Pipeline(Pipeline.standard(mode), java.util.Set.of(), 8).run(unfused);
        Target t = Target.parse(target);
        Map<String, Integer> plainKnobs = new HashMap<>(gemv);
        plainKnobs.putAll(Map.of("nibbles", 0, "pipeline", 0, "unroll", 1, "ksplit", 1, "stages", 0));
        if (!t.caps().asyncCopy()) plainKnobs.remove("stages");
        if (t.caps().gridDependency()) plainKnobs.put("trigger", 0);
        int ksplit = gemv.getOrDefault("ksplit", 1), stages = gemv.getOrDefault("stages", 0);
        Program decode = decode(res, t, gemv), plain = decode(res, t, plainKnobs);
        long gemvs = decode.kernels().stream().filter(k -> k.name().startsWith("gemvh")).count();
        long withVariant = decode.kernels().stream().filter(k -> k.name().startsWith("gemvh")
                && k.name().contains("_n1") == (gemv.get("nibbles") == 1)
                && (stages > 0 ? k.name().contains("_ring" + stages + (gemv.getOrDefault("trigger", 0) == 1 ? "t" : "")) && k.name().contains("_rs") == (gemv.getOrDefault("ring_scales", 2) == 0) && k.name().contains("_rp") == (gemv.getOrDefault("ring_scales", 2) == 2 && gemv.getOrDefault("ring_copy", 0) == 0)
                    && k.name().contains("_bulk") == (gemv.getOrDefault("ring_copy", 0) == 1)
                    && k.name().contains("_aw" + gemv.getOrDefault("after_wait", 0)) == (gemv.getOrDefault("after_wait", 0) > 0)
                    && k.name().contains("_ax" + gemv.getOrDefault("after_x", 0)) == (gemv.getOrDefault("after_x", 0) > 0)
                    && k.name().contains("_bw" + gemv.getOrDefault("before_wait", 0)) == (gemv.getOrDefault("before_wait", 0) > 0) : k.name().matches(".*_p\\d.*") == (gemv.get("pipeline") > 0)
                    && (gemv.get("pipeline") == 0 || k.name().contains("_p" + gemv.get("pipeline"))))
                && k.name().contains("_ks") == (ksplit > 1) && k.name().contains("_d4") == (gemv.getOrDefault("dot4", 0) == 1)
                // x_coalesce where x is f32: the norms' GEMVs (the others' x is f16, HalfMatmulInputs)
                && k.name().contains("_xc") == (gemv.getOrDefault("x_coalesce", 0) == 1 && k.name().contains("_norm"))).count();
        assertTrue(gemvs >= 3 && withVariant == gemvs, "every f16 GEMV compiled with " + gemv + ": " + decode.kernels().stream().map(k -> k.name()).toList());
        TinyModel m = new TinyModel(c, unfused, SEED);
        Random r = new Random(SEED);
        try (Arena a = Arena.ofShared(); var sim = new SimulatedExecutor(decode, res.memory(), m.weights(res.graph(), a), 8);
             var simPlain = new SimulatedExecutor(plain, res.memory(), m.weights(res.graph(), a), 8)) {
            var ref = new ReferenceInterpreter(res.graph(), m.weights(res.graph(), a));
            var st = new ReferenceInterpreter.State();
            for (int i = 0; i < 2; i++) {
                int[] tok = {r.nextInt(c.vocabSize())};
                float[] want = ref.run(tok, i, st), base = simPlain.run(plain, tok, i), got = sim.run(decode, tok, i);
                if (ksplit == 1)
                    assertArrayEquals(base, got, target + " " + mode + " " + gemv + " position " + i + ": logits differ from the plain loop's (seed " + SEED + ")");
                else { // the row sums are added in another order (f32 partials): equal up to rounding
                    double relPlain = TinyModel.relError(got, base);
                    assertTrue(relPlain <= SPLIT_TOLERANCE, String.format("%s %s %s position %d: logits rel. error %.2e against the plain loop > %.0e (seed %d)",
                            target, mode, gemv, i, relPlain, SPLIT_TOLERANCE, SEED));
                    double relRef = TinyModel.relError(got, want), tol = SLACK * Precision.wholeModel(decode);
                    assertTrue(relRef <= tol, String.format("%s %s %s position %d: logits rel. error %.2e > %.1e (seed %d)", target, mode, gemv, i, relRef, tol, SEED));
                }
                double rel = TinyModel.relError(base, want), tol = SLACK * Precision.wholeModel(plain);
                assertTrue(rel <= tol, String.format("%s %s plain loop, position %d: logits rel. error %.2e > %.1e (seed %d)", target, mode, i, rel, tol, SEED));
            }
        }
    }

    /**
     * Where a ringed GEMV lets the next kernel launch (the simulator runs kernels one after another, so this is
     * read off the CUDA source): once, and with {@code trigger} 1 inside the main loop before its wait for the oldest
     * batch (the iteration by whose start the block's last batch has been copied), with 0 after the loop.
     */
    @org.junit.jupiter.api.Test
    void theEarlyTriggerComesOnceWithTheBlocksLastCopies() {
        for (int trigger = 0; trigger <= 1; trigger++) {
            int tr = trigger;
            forEachGemvTrigger(decode(tinyFused(), Target.parse("cuda:sm_90"), Map.of("vector", 4, "unroll", 1, "pipeline", 1, "stages", 4, "trigger", trigger)), (name, src, at) -> {
                int loop = src.lastIndexOf("for (int j = 0;"), lastWait = src.lastIndexOf("cp.async.wait_group");
                assertTrue(loop >= 0 && (tr == 1 ? loop < at && at < lastWait : at > lastWait), name + " trigger " + tr + ": placed at " + at
                        + " (main loop at " + loop + ", last wait " + lastWait + ")\n" + src);
            });
        }
    }

    private static Pipeline.Result tinyFused() {
        return new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), java.util.Set.of(), 8).run(ModelGraph.build(MODEL, new ModelGraph.Options(16, QuantMode.Q4F16_1.kvCacheType(), false)));
    }

    private interface TriggerSite {
        void check(String kernel, String source, int at);
    }

    /** Each f16 GEMV of {@code p} with its CUDA source and where its one griddepcontrol.launch_dependents is. */
    private static void forEachGemvTrigger(Program p, TriggerSite site) {
        for (var k : p.kernels()) {
            if (!k.name().startsWith("gemvh")) continue;
            String src = new jmlc.compiler.codegen.CudaEmitter().emit(k), launch = "griddepcontrol.launch_dependents";
            int at = src.indexOf(launch);
            assertTrue(at >= 0 && at == src.lastIndexOf(launch), k.name() + ": one trigger\n" + src);
            site.check(k.name(), src, at);
        }
    }

    /**
     * The register loop's early trigger ({@code stages} 0, {@code trigger} 2): once, before the block's last row tile's
     * stores (as that tile begins), and the program launches as dependents; with 0, or 1 (the ring's, moot here), once
     * after the block's last store.
     */
    @org.junit.jupiter.api.Test
    void theRegisterLoopTriggersAsItsLastTileBegins() {
        Pipeline.Result res = tinyFused();
        Target t = Target.parse("cuda:sm_90");
        for (int trigger = 0; trigger <= 2; trigger++) {
            Program p = decode(res, t, Map.of("vector", 4, "unroll", 1, "pipeline", 1, "stages", 0, "trigger", trigger));
            boolean early = trigger == 2;
            assertEquals(early, p.triggersEarly());
            forEachGemvTrigger(p, (name, src, at) -> {
                assertEquals(early, name.contains("_t"), name);
                int lastStore = src.lastIndexOf("y[");
                assertTrue(early ? at < lastStore && src.lastIndexOf("for (", at) > src.indexOf("griddepcontrol.wait") : at > lastStore,
                        name + ": placed at " + at + " (last store " + lastStore + ")\n" + src);
            });
        }
        // with a ring, 2 is the ring's early trigger, recorded as 1
        Program ringed = decode(res, t, Map.of("vector", 4, "unroll", 1, "pipeline", 1, "stages", 4, "trigger", 2));
        assertTrue(ringed.kernels().stream().filter(k -> k.name().startsWith("gemvh")).allMatch(k -> k.name().contains("_ring4t")), names(ringed));
        for (Tunable tu : ringed.tunables())
            if (tu.space().signature().kind().equals("gemvh")) assertEquals(1, tu.chosen().get("trigger"));
    }

    /**
     * sm_90's defaults: every f16 GEMV in a ring of 4 stages with the early trigger, so the program launches as
     * programmatic dependents; not where the target has no dependent launches (sm_80), not where a knob set against
     * the ring (pipeline 2) asks for the register loop (then the trigger is recorded as 0 too), and not where a ring
     * would leave one block a multiprocessor (a 28672-wide row: Llama-3-70B's down GEMV).
     */
    @org.junit.jupiter.api.Test
    void aRingWithTheEarlyTriggerIsSm90sDefault() {
        Pipeline.Result res = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), java.util.Set.of(), 8).run(ModelGraph.build(MODEL, new ModelGraph.Options(16, QuantMode.Q4F16_1.kvCacheType(), false)));
        Program sm90 = Build.compile(res.graph(), Target.parse("cuda:sm_90"), Knobs.defaults(), 8).decode();
        assertTrue(sm90.kernels().stream().filter(k -> k.name().startsWith("gemvh")).allMatch(k -> k.name().contains("_ring4t")), names(sm90));
        assertTrue(sm90.triggersEarly());
        Program sm80 = Build.compile(res.graph(), Target.parse("cuda:sm_80"), Knobs.defaults(), 8).decode();
        assertTrue(sm80.kernels().stream().filter(k -> k.name().startsWith("gemvh")).noneMatch(k -> k.name().contains("_ring")), names(sm80));
        assertFalse(sm80.triggersEarly());
        Program against = decode(res, Target.parse("cuda:sm_90"), Map.of("pipeline", 2));
        assertTrue(against.kernels().stream().filter(k -> k.name().startsWith("gemvh")).allMatch(k -> k.name().contains("_p2") && !k.name().contains("_ring")), names(against));
        assertFalse(against.triggersEarly(), "the trigger is moot without a ring");
        for (Tunable tu : against.tunables())
            if (tu.space().signature().kind().equals("gemvh")) assertEquals(Map.of("stages", 0, "trigger", 0), Map.of("stages", tu.chosen().get("stages"), "trigger", tu.chosen().get("trigger")));
        ModelConfig wide = new ModelConfig(Architecture.LLAMA, 128, 8192, 28672, 1, 64, 8, 128, 1e-5, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 64, false, false);
        Pipeline.Result wideRes = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), java.util.Set.of(), 8).run(ModelGraph.build(wide, new ModelGraph.Options(16, QuantMode.Q4F16_1.kvCacheType(), false)));
        List<String> wideGemvs = Build.compile(wideRes.graph(), Target.parse("cuda:sm_90"), Knobs.defaults(), 8).decode().kernels().stream()
                .map(k -> k.name()).filter(n -> n.startsWith("gemvh")).toList();
        assertTrue(wideGemvs.stream().anyMatch(n -> n.contains("8192x28672") && !n.contains("_ring")), "down: one block a multiprocessor with a ring: " + wideGemvs);
        assertTrue(wideGemvs.stream().anyMatch(n -> n.contains("8192x8192") && n.contains("_ring4t")), "o: " + wideGemvs);
    }

    private static String names(Program p) {
        return p.kernels().stream().map(k -> k.name()).toList().toString();
    }

    /** The decode program with {@code gemv} over the defaults of every f16 GEMV (GemvPrologueTest's too). */
    static Program decode(Pipeline.Result res, Target t, Map<String, Integer> gemv) {
        Knobs knobs = Knobs.defaults().putEvery("gemvh", Build.compile(res.graph(), t, Knobs.defaults(), 8).decode(), gemv);
        return Build.compile(res.graph(), t, knobs, 8).decode();
    }
}
