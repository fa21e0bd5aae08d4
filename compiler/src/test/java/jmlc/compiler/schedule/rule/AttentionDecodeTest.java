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
                "_w" + warps + "s" + splits + (keys == 1 ? "" : "k" + keys), String.format("keys %d, warps %d, splits %d, fuse_rope %d", keys, warps, splits, fuseRope));
    }

    /**
     * Knob {@code kv_prefetch}: each block reads the position, and asks the L2 for its cached rows where its share is at
     * most that many loop steps (8 positions a step here), before its grid dependency's wait. The simulator holds each
     * range to its buffer and to 16-byte units, and fails a read before the wait of what an earlier launch of the step
     * wrote (the qkv row, the new position's k and v); the logits are unchanged. 3 splits of up to 14 positions (one
     * step covers a split's share up to position 24, two all of them), one split (one step up to position 8); none.
     */
    @ParameterizedTest
    @CsvSource({"1, 3, 1", "2, 3, 0", "64, 3, 1", "1, 1, 0", "2, 1, 1", "64, 1, 0", "0, 3, 1", "0, 1, 0"})
    void cachedRowsAskedOfTheL2BeforeTheWait(int kvPrefetch, int splits, int fuseRope) {
        Map<String, Integer> knobs = Map.of("kv_prefetch", kvPrefetch, "splits", splits, "fuse_rope", fuseRope);
        String tag = "s" + splits + "k2" + (kvPrefetch > 0 ? "p" + kvPrefetch : "") + (fuseRope == 1 ? "_rope" : "_" + (splits == 1 ? "single" : "partial"));
        decodeMatchesInterpreter(knobs, tag, "kv_prefetch " + kvPrefetch + ", splits " + splits);
        var attention = decodeProgram(knobs).kernels().stream().filter(k -> k.name().contains(tag)).findFirst().orElseThrow();
        var top = ((jmlc.compiler.kernel.Stmt.Block) attention.body()).body();
        int waitAt = first(top, AttentionDecodeTest::isWait), posLoad = first(top, AttentionDecodeTest::isPositionLoad);
        int firstPrefetchIf = first(top, st -> st instanceof jmlc.compiler.kernel.Stmt.If f && f.then().toString().contains("Prefetch["));
        assertTrue(waitAt >= 0 && posLoad >= 0, "a wait and the position's load: " + top);
        assertTrue(kvPrefetch > 0 ? posLoad < waitAt : posLoad > waitAt, "the position read " + (kvPrefetch > 0 ? "before" : "after") + " the wait");
        if (kvPrefetch == 0) assertTrue(firstPrefetchIf < 0, "no prefetch with kv_prefetch 0");
        else assertTrue(firstPrefetchIf >= 0 && firstPrefetchIf < waitAt, "the prefetches come before the wait: " + top);
    }

    /**
     * Knob {@code kv_ahead}: a warp's next step's rows loaded before its current one is used, the first step's before the
     * grid dependency's wait where they lie before the new position (the simulator fails a read before the wait of what
     * an earlier launch of the step wrote: with fuse_rope 0 the new position's row), the new position's once appended.
     * One key a step and several, a warp's share shorter than a step and longer, idle warps, one split and several, with
     * kv_prefetch too; the position read before the wait.
     */
    @ParameterizedTest
    @CsvSource({"1, 4, 32, 1, 0", "2, 2, 1, 1, 0", "3, 4, 4, 0, 0", "2, 4, 3, 1, 2", "1, 1, 2, 0, 0", "2, 32, 1, 0, 2"})
    void rowsLoadedAStepAhead(int keys, int warps, int splits, int fuseRope, int kvPrefetch) {
        Map<String, Integer> knobs = Map.of("keys", keys, "warps", warps, "splits", splits, "fuse_rope", fuseRope, "kv_prefetch", kvPrefetch, "kv_ahead", 1);
        String tag = "_w" + warps + "s" + splits + (keys == 1 ? "" : "k" + keys) + (kvPrefetch > 0 ? "p" + kvPrefetch : "") + "a_";
        decodeMatchesInterpreter(knobs, tag, String.format("kv_ahead, keys %d, warps %d, splits %d, fuse_rope %d, kv_prefetch %d", keys, warps, splits, fuseRope, kvPrefetch));
        var attention = decodeProgram(knobs).kernels().stream().filter(k -> k.name().contains(tag)).findFirst().orElseThrow();
        var top = ((jmlc.compiler.kernel.Stmt.Block) attention.body()).body();
        int waitAt = first(top, AttentionDecodeTest::isWait), posLoad = first(top, AttentionDecodeTest::isPositionLoad);
        int firstLoad = first(top, st -> st instanceof jmlc.compiler.kernel.Stmt.If f && f.then().toString().contains("k_cache"));
        assertTrue(posLoad >= 0 && firstLoad > posLoad && waitAt > firstLoad, "the position, then the first step's rows, then the wait: " + top);
    }

    /**
     * By default the short-context program's one-block attention prefetches its first rows before its wait and the
     * split attention does not (where the target can: CUDA sm_90, not Vulkan); the short-context program matches the
     * interpreter at every step, the simulator watching what its kernels read before their waits.
     */
    @Test
    void theOneBlockAttentionPrefetchesByDefaultTheSplitOneDoesNot() {
        ModelConfig c = config();
        Graph unfused = unfused(c);
        Pipeline.Result res = passes(unfused);
        Knobs knobs = Knobs.defaults().put(jmlc.compiler.build.ShortContextDecode.KIND, Map.of("positions", CONTEXT));
        Build cuda = Build.compile(res.graph(), Target.parse("cuda:sm_90"), knobs, CONTEXT);
        assertTrue(cuda.decode().kernels().stream().anyMatch(k -> k.name().matches(".*_w4s32k2_rope[a-z]*_partial")),
                "the split attention without a prefetch: " + names(cuda.decode()));
        assertTrue(cuda.shortDecode().kernels().stream().anyMatch(k -> k.name().matches(".*s1k2p" + AttentionDecodeRule.ONE_SPLIT_KV_PREFETCH + "_rope.*_single.*")),
                "the one-block attention with its prefetch: " + names(cuda.shortDecode()));
        Build vulkan = Build.compile(res.graph(), Target.parse("vulkan"), knobs, CONTEXT);
        assertTrue(vulkan.shortDecode().kernels().stream().anyMatch(k -> k.name().matches(".*s1k2_rope.*_single.*")),
                "no prefetch where the target has none: " + names(vulkan.shortDecode()));
        programMatchesInterpreter(c, unfused, res, cuda.shortDecode(), "the short-context program");
    }

    /** The index of the first of a kernel's top-level statements that {@code is} holds for, or -1. */
    private static int first(java.util.List<jmlc.compiler.kernel.Stmt> top, java.util.function.Predicate<jmlc.compiler.kernel.Stmt> is) {
        for (int i = 0; i < top.size(); i++) if (is.test(top.get(i))) return i;
        return -1;
    }

    private static boolean isWait(jmlc.compiler.kernel.Stmt st) {
        return st instanceof jmlc.compiler.kernel.Stmt.GridDependency g && g.kind() == jmlc.compiler.kernel.Stmt.GridDependency.Kind.WAIT;
    }

    /** The position's load: {@code len = pos[0] + 1}. */
    private static boolean isPositionLoad(jmlc.compiler.kernel.Stmt st) {
        return st instanceof jmlc.compiler.kernel.Stmt.Let l && l.var().name().equals("len");
    }

    private static java.util.List<String> names(Program p) {
        return p.kernels().stream().map(jmlc.compiler.kernel.Kernel::name).toList();
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
        assertTrue(decode.kernels().stream().anyMatch(k -> k.name().contains(tag)), what + ": a kernel named *" + tag + "*: " + names(decode));
        programMatchesInterpreter(c, unfused, res, decode, what);
    }

    /** Runs {@code decode} beside the interpreter at steps 0 to STEPS - 1, fresh random tokens. */
    private static void programMatchesInterpreter(ModelConfig c, Graph unfused, Pipeline.Result res, Program decode, String what) {
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
