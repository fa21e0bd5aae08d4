package jmlc.compiler.build;

import jmlc.compiler.TinyModel;
import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.kernel.Capabilities.MatrixUnit;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Precision;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.schedule.SimulatedExecutor;
import jmlc.compiler.target.Platform;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Rules ask a target for what only some GPUs have and fall back where it is absent; kernels never use what their target lacks. */
class CapabilitiesTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run

    static Capabilities caps(int subgroup, int shared, boolean f16, MatrixUnit matrix, boolean ldmatrix, boolean gridDependency, boolean prefetch) {
        return new Capabilities(subgroup, 1024, shared, 8, f16, matrix, ldmatrix, gridDependency, prefetch);
    }

    /** {@code values} laid over the defaults of every f16 GEMV {@code g}'s decode program has on {@code t}. */
    static Knobs overEveryGemvh(Graph g, Target t, java.util.Map<String, Integer> values) {
        return Knobs.defaults().putEvery("gemvh", Build.compile(g, t, Knobs.defaults(), 8).decode(), values);
    }

    static Pipeline.Result tiny(QuantMode q) {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 2, 4, 2, false);
        return new Pipeline(Pipeline.standard(q), Set.of(), 8).run(ModelGraph.build(c, new ModelGraph.Options(16, q.kvCacheType(), false)));
    }

    static Set<String> rules(Program p) {
        return Set.copyOf(p.steps().stream().map(Program.Step::rule).toList());
    }

    @Test
    void rulesFallBackWhereTheTargetLacksACapability() {
        Graph g = tiny(QuantMode.Q4F16_1).graph();
        Build full = Build.compile(g, Target.parse("cuda:sm_90"), Knobs.defaults(), 8);
        assertTrue(rules(full.prefill()).contains("gemm") && rules(full.decode()).contains("gemv_f16"));
        // no matrix unit: prefill matmuls on the vector units; no f16 arithmetic: the f32 GEMV
        Target bare = new Target(Platform.CUDA, "sm_90", caps(32, 48 * 1024, false, MatrixUnit.NONE, false, false, false));
        Build b = Build.compile(g, bare, Knobs.defaults(), 8);
        assertFalse(rules(b.prefill()).contains("gemm") || rules(b.decode()).contains("gemv_f16"), rules(b.decode()) + " " + rules(b.prefill()));
        for (var e : b.sources().entrySet()) {
            String body = e.getValue().substring(e.getValue().indexOf("__global__")); // the prelude defines helpers for every kernel
            assertFalse(body.contains("mma.sync") || body.contains("ldmatrix") || body.contains("griddepcontrol") || body.contains("prefetch") || body.contains("jmlc_hfma2("),
                    e.getKey() + " uses no statement the target lacks");
        }
        // 16 KiB of shared memory (Vulkan's minimum): on Llama-2-7B the f16 GEMV stages a row of 4096 (o_proj, qkv,
        // gate_up and the LM head: 8 KiB, a norm's x·g in registers) but not 11008 (down: 22 KiB)
        ModelConfig llama7b = new ModelConfig(Architecture.LLAMA, 32000, 4096, 11008, 2, 32, 32, 128, 1e-5, 10000,
                new jmlc.compiler.ir.RopeSpec.Scaling.None(), jmlc.compiler.ir.RopeSpec.Style.HALF, 256, false, false);
        Graph g7 = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), Set.of(), 8).run(ModelGraph.build(llama7b, new ModelGraph.Options(256, QuantMode.Q4F16_1.kvCacheType(), false))).graph();
        Target small = new Target(Platform.CUDA, "sm_90", caps(32, 16 * 1024, true, MatrixUnit.NONE, false, false, false));
        Program decode = Build.compile(g7, small, Knobs.defaults(), 8).decode();
        List<String> f16 = decode.steps().stream().filter(st -> st.rule().equals("gemv_f16")).map(st -> st.calls().getFirst().kernel().name()).toList();
        for (String shape : List.of("12288x4096_norm", "4096x4096_res", "22016x4096_norm", "32000x4096_norm"))
            assertTrue(f16.stream().anyMatch(n -> n.contains(shape)), shape + "'s GEMV stages its row in 16 KiB: " + f16);
        assertTrue(f16.stream().noneMatch(n -> n.contains("x11008")), "down's row of 11008 does not fit 16 KiB: " + f16);
        for (Kernel k : Build.compile(g7, small, Knobs.defaults(), 8).kernels())
            assertTrue(k.sharedBytes() <= 16 * 1024, k.name() + " fits 16 KiB of shared memory");
    }

    /**
     * Llama-3-70B's down row does not fit 48 KiB with the f16 GEMV's staging (28 672 columns, 57 344 bytes; the norm
     * GEMVs' 8192 columns take 16 KiB). Where the target lets a kernel opt in to more (CUDA sm_90: 227 KiB of dynamic
     * shared memory), every decode matmul is the f16 GEMV and down takes its arrays from dynamic shared memory; where
     * it does not, down falls back to the f32 GEMV and the others stay.
     */
    @Test
    void rowsBeyond48KiBAreStagedWhereTheTargetOptsIn() {
        ModelConfig llama70b = new ModelConfig(Architecture.LLAMA, 128256, 8192, 28672, 2, 64, 8, 128, 1e-5, 500000,
                new jmlc.compiler.ir.RopeSpec.Scaling.Llama3(8, 1, 4, 8192), jmlc.compiler.ir.RopeSpec.Style.HALF, 256, false, false);
        Graph g = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), Set.of(), 8).run(ModelGraph.build(llama70b, new ModelGraph.Options(256, QuantMode.Q4F16_1.kvCacheType(), false))).graph();
        Target noRing = Target.parse("cuda:sm_90");
        Knobs registers = overEveryGemvh(g, noRing, java.util.Map.of("stages", 0));
        Program optIn = Build.compile(g, noRing, registers, 8).decode();
        List<Program.Step> matmuls = optIn.steps().stream().filter(st -> st.rule().startsWith("gemv")).toList();
        assertTrue(matmuls.size() >= 9 && matmuls.stream().allMatch(st -> st.rule().equals("gemv_f16")), "every decode matmul the f16 GEMV: "
                + matmuls.stream().map(st -> st.rule() + " " + st.calls().getFirst().kernel().name()).toList());
        List<Kernel> dynamic = optIn.kernels().stream().filter(k -> jmlc.compiler.codegen.CudaEmitter.dynamicSharedBytes(k) > 0).toList();
        assertTrue(!dynamic.isEmpty() && dynamic.stream().allMatch(k -> k.name().contains("8192x28672") && k.sharedBytes() > 48 * 1024),
                "down in dynamic shared memory, and only down (without a ring): " + dynamic.stream().map(k -> k.name() + " " + k.sharedBytes()).toList());
        Target noOptIn = new Target(Platform.CUDA, "sm_90", caps(32, 48 * 1024, true, MatrixUnit.MMA_M16N8K16, true, true, true));
        List<String> f16 = Build.compile(g, noOptIn, Knobs.defaults(), 8).decode().steps().stream().filter(st -> st.rule().equals("gemv_f16"))
                .map(st -> st.calls().getFirst().kernel().name()).toList();
        assertTrue(f16.stream().anyMatch(n -> n.contains("8192x8192")) && f16.stream().anyMatch(n -> n.contains("10240x8192_norm"))
                && f16.stream().noneMatch(n -> n.contains("x28672")), "without opting in every row but down's fits: " + f16);
    }

    /** Llama-2-7B's shapes (2 layers, a context of 256), q4f16_1, through the standard passes. */
    private static Graph llama7b() {
        ModelConfig llama7b = new ModelConfig(Architecture.LLAMA, 32000, 4096, 11008, 2, 32, 32, 128, 1e-5, 10000,
                new jmlc.compiler.ir.RopeSpec.Scaling.None(), jmlc.compiler.ir.RopeSpec.Style.HALF, 256, false, false);
        return new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), Set.of(), 8).run(ModelGraph.build(llama7b, new ModelGraph.Options(256, QuantMode.Q4F16_1.kvCacheType(), false))).graph();
    }

    /**
     * A GEMV that opts in to more shared memory has no more blocks than a multiprocessor's shared memory holds (sm_90:
     * 228 KiB an SM, 1 KiB reserved a block): 4 stages of 8 warps take 88 KiB, so 2 an SM, and Llama-2-7B's tiles are
     * dealt in as few rounds as those blocks allow, evenly, rather than over 4 an SM and again by the runtime.
     */
    @Test
    void blocksThatOptInAreAsManyAsSharedMemoryHolds() {
        Graph g = llama7b();
        Target t = Target.parse("cuda:sm_90");
        Knobs ring = overEveryGemvh(g, t, java.util.Map.of("stages", 4, "warps", 8));
        int sms = t.caps().multiprocessors(), checked = 0;
        for (Kernel k : Build.compile(g, t, ring, 8).decode().kernels()) {
            if (!k.name().contains("_ring4")) continue;
            int perSm = (t.caps().optInSharedBytes() + 1024) / (k.sharedBytes() + 1024);
            int blocks = (int) ((jmlc.compiler.kernel.Expr.Const) k.grid()[0]).value(), tiles = k.tiles();
            assertEquals(2, perSm, k.name() + ": " + k.sharedBytes() + " bytes a block");
            int rounds = (tiles + perSm * sms - 1) / (perSm * sms);
            assertTrue(blocks <= perSm * sms && (tiles + blocks - 1) / blocks == rounds, k.name() + ": " + blocks + " blocks for " + tiles + " tiles");
            checked++;
        }
        assertTrue(checked >= 4, "the ringed GEMVs of a layer and the LM head");
    }

    /**
     * Knob {@code per_sm} bounds the blocks a multiprocessor the tiles are dealt over, whatever else fits: a ring of 2
     * stages (48 KiB a block, 4 an SM) with per_sm 2 keeps the grids of the default ring of 4 (2 an SM by its shared
     * memory), leaving half of each multiprocessor to the next kernel's blocks; without it the same ring takes more blocks.
     */
    @Test
    void blocksAMultiprocessorAreBoundedByPerSm() {
        Graph g = llama7b();
        Target t = Target.parse("cuda:sm_90");
        java.util.function.Function<java.util.Map<String, Integer>, java.util.Map<String, Integer>> grids = knobs -> {
            java.util.Map<String, Integer> byShape = new java.util.TreeMap<>();
            for (Kernel k : Build.compile(g, t, overEveryGemvh(g, t, knobs), 8).decode().kernels())
                if (k.name().startsWith("gemvh"))
                    byShape.put(k.name().replaceAll("_w8.*", ""), (int) ((jmlc.compiler.kernel.Expr.Const) k.grid()[0]).value());
            return byShape;
        };
        var ring4 = grids.apply(java.util.Map.of("stages", 4, "warps", 8));
        var ring2PerSm2 = grids.apply(java.util.Map.of("stages", 2, "warps", 8, "per_sm", 2));
        var ring2 = grids.apply(java.util.Map.of("stages", 2, "warps", 8));
        assertTrue(ring4.size() >= 5, "a layer's GEMVs and the LM head: " + ring4);
        assertEquals(ring4, ring2PerSm2, "per_sm 2 keeps the 2 an SM that 4 stages' shared memory allows");
        int sms = t.caps().multiprocessors();
        assertTrue(ring2PerSm2.values().stream().allMatch(b -> b <= 2 * sms), "at most 2 an SM: " + ring2PerSm2);
        assertTrue(ring2.entrySet().stream().anyMatch(e -> e.getValue() > 2 * sms), "without per_sm a ring of 2 takes more than 2 an SM somewhere: " + ring2);
    }

    /** Without mma.sync, f16 arithmetic or dot2, prefill matmuls are the tiled GEMM in f32 FMAs; the program still matches the reference. */
    @Test
    void theTiledGemmOnBareVectorUnitsMatchesTheReference() {
        Pipeline.Result res = tiny(QuantMode.Q4F16_1);
        Target bare = new Target(Platform.CUDA, "sm_70", caps(32, 48 * 1024, false, MatrixUnit.NONE, false, false, false));
        Build b = Build.compile(res.graph(), bare, Knobs.defaults(), 8);
        assertTrue(rules(b.prefill()).contains("gemm_tiled") && b.prefill().kernels().stream().anyMatch(k -> k.name().endsWith("_f32")), rules(b.prefill()).toString());
        assertSimulatedPrefillMatches(res, b);
    }

    /** The AMD targets' table: wavefront, LDS, dot2 and matrix unit per family, feature suffixes dropped. */
    @Test
    void amdTargetsStateWhatTheirFamilyHas() {
        record Row(String arch, int wave, int lds, boolean dot2, MatrixUnit matrix) {}
        for (Row r : List.of(new Row("gfx1100", 32, 64 << 10, true, MatrixUnit.WMMA_16X16X16), new Row("gfx1033", 32, 64 << 10, true, MatrixUnit.NONE),
                new Row("gfx1030", 32, 64 << 10, true, MatrixUnit.NONE), new Row("gfx90a", 64, 64 << 10, true, MatrixUnit.MFMA_16X16X16),
                new Row("gfx942", 64, 64 << 10, true, MatrixUnit.MFMA_16X16X16), new Row("gfx950", 64, 160 << 10, true, MatrixUnit.MFMA_16X16X16),
                new Row("gfx900", 64, 64 << 10, false, MatrixUnit.NONE), new Row("gfx1010", 32, 64 << 10, false, MatrixUnit.NONE),
                new Row("gfx1200", 32, 64 << 10, true, MatrixUnit.NONE))) {
            Capabilities c = Target.parse("rocm:" + r.arch()).caps();
            assertEquals(List.of(r.wave(), r.lds(), r.dot2(), r.matrix()), List.of(c.subgroupSize(), c.maxSharedBytes(), c.dot2(), c.matrix()), r.arch());
            assertTrue(c.f16Arithmetic() && !c.ldmatrix() && !c.gridDependency() && !c.prefetchL2(), r.arch());
        }
        assertEquals("rocm:gfx90a", Target.rocm("gfx90a:sramecc+:xnack-", 104).toString());
        assertEquals(Target.parse("rocm:gfx1100"), Target.parse("hip:gfx1100"));
        var e = assertThrows(IllegalArgumentException.class, () -> Target.parse("rocm:gfx803"));
        assertTrue(e.getMessage().contains("gfx803"), e.getMessage());
    }

    /** Entries of the matrix units' register layouts as AMD documents them (RDNA3 WMMA, CDNA MFMA 16×16×16 f16). */
    @Test
    void matrixUnitLayoutsAreAmdsDocumentedOnes() {
        MatrixUnit w = MatrixUnit.WMMA_16X16X16, m = MatrixUnit.MFMA_16X16X16;
        // WMMA: lane 17 (group 1) holds row 1 of A with every k; its accumulator 3 is D[2·3 + 1][1]
        assertEquals(List.of(0, 14, 7, 1), List.of(w.k(1, 0), w.k(1, 7), w.row(1, 3), MatrixUnit.col(17)));
        // MFMA: lane 37 (group 2) holds row 5 of A at k 8..11; its accumulator 3 is D[4·2 + 3][5]
        assertEquals(List.of(8, 10, 11, 5), List.of(m.k(2, 0), m.k(2, 1), m.row(2, 3), MatrixUnit.col(37)));
        assertEquals(List.of(32, 8, 8, 8, 64, 2, 2, 4), List.of(w.lanes, w.aRegs, w.bRegs, w.accRegs, m.lanes, m.aRegs, m.bRegs, m.accRegs));
        assertThrows(IllegalArgumentException.class, () -> caps(32, 64 << 10, true, MatrixUnit.MFMA_16X16X16, false, false, false));
    }

    @Test
    void aKernelUsingWhatItsTargetLacksIsRejectedWhenBuilt() {
        Build b = Build.compile(tiny(QuantMode.Q4F16_1).graph(), Target.parse("cuda:sm_90"), Knobs.defaults(), 8);
        Kernel gemm = b.prefill().kernels().stream().filter(k -> k.name().startsWith("gemm_q")).findFirst().orElseThrow();
        Capabilities noMma = caps(32, 48 * 1024, true, MatrixUnit.NONE, true, true, true);
        var e = assertThrows(IllegalStateException.class, () -> Kernel.checked(gemm.name(), gemm.buffers(), gemm.scalars(), gemm.shared(), gemm.body(),
                gemm.block(), gemm.grid(), gemm.knobs(), gemm.summary(), noMma));
        assertTrue(e.getMessage().contains(gemm.name()) && e.getMessage().contains("mma.sync"), e.getMessage());
        // a GEMV in the register loop (sm_90's default ring would fail on shared memory first) on 16-lane subgroups
        Knobs registerLoop = overEveryGemvh(tiny(QuantMode.Q4F16_1).graph(), Target.parse("cuda:sm_90"), java.util.Map.of("stages", 0));
        Kernel wide = Build.compile(tiny(QuantMode.Q4F16_1).graph(), Target.parse("cuda:sm_90"), registerLoop, 8).decode().kernels().stream()
                .filter(k -> k.name().startsWith("gemvh")).findFirst().orElseThrow();
        var s = assertThrows(IllegalStateException.class, () -> Kernel.checked(wide.name(), wide.buffers(), wide.scalars(), wide.shared(), wide.body(),
                wide.block(), wide.grid(), wide.knobs(), wide.summary(), caps(16, 48 * 1024, true, MatrixUnit.NONE, false, true, true)));
        assertTrue(s.getMessage().contains("16 lanes"), s.getMessage());
        // bulk L2 prefetches (sm_90) on a GPU that prefetches only by line
        ModelConfig wider = new ModelConfig(Architecture.LLAMA, 96, 256, 512, 1, 4, 2, 64, 1e-5, 10000, new jmlc.compiler.ir.RopeSpec.Scaling.None(),
                jmlc.compiler.ir.RopeSpec.Style.HALF, 16, false, false); // K of 256 and 512: bulk ranges of the scales are 16-byte aligned
        var wideGraph = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), Set.of(), 8).run(ModelGraph.build(wider, new ModelGraph.Options(16, QuantMode.Q4F16_1.kvCacheType(), false))).graph();
        Knobs bulk = overEveryGemvh(wideGraph, Target.parse("cuda:sm_90"), java.util.Map.of("prefetch", 2));
        Kernel pf = Build.compile(wideGraph, Target.parse("cuda:sm_90"), bulk, 8).decode().kernels().stream()
                .filter(k -> k.name().endsWith("_pf2")).findFirst().orElseThrow();
        var p = assertThrows(IllegalStateException.class, () -> Kernel.checked(pf.name(), pf.buffers(), pf.scalars(), pf.shared(), pf.body(),
                pf.block(), pf.grid(), pf.knobs(), pf.summary(), caps(32, 48 * 1024, true, MatrixUnit.MMA_M16N8K16, true, true, true)));
        assertTrue(p.getMessage().contains("bulk L2 prefetch"), p.getMessage());
        // AMD: dot2 GEMVs on a target without dot2, MFMA steps on a WMMA target
        Build amd = Build.compile(tiny(QuantMode.Q4F16_1).graph(), Target.parse("rocm:gfx942"), Knobs.defaults(), 8);
        Kernel dot = amd.decode().kernels().stream().filter(k -> k.name().endsWith("_dot2")).findFirst().orElseThrow();
        Capabilities noDot2 = new Capabilities(64, 1024, 64 << 10, 8, true, MatrixUnit.MFMA_16X16X16, false, false, false);
        var d = assertThrows(IllegalStateException.class, () -> Kernel.checked(dot.name(), dot.buffers(), dot.scalars(), dot.shared(), dot.body(),
                dot.block(), dot.grid(), dot.knobs(), dot.summary(), noDot2));
        assertTrue(d.getMessage().contains("dot2"), d.getMessage());
        Kernel mfma = amd.prefill().kernels().stream().filter(k -> k.name().endsWith("_mfma")).findFirst().orElseThrow();
        Capabilities wmma = new Capabilities(32, 1024, 64 << 10, 8, true, MatrixUnit.WMMA_16X16X16, false, false, false).withDot2(true);
        var x = assertThrows(IllegalStateException.class, () -> Kernel.checked(mfma.name(), mfma.buffers(), mfma.scalars(), mfma.shared(), mfma.body(),
                mfma.block(), mfma.grid(), mfma.knobs(), mfma.summary(), wmma));
        assertTrue(x.getMessage().contains("MFMA_16X16X16"), x.getMessage());
    }

    /** The tensor-core GEMM without ldmatrix loads its fragments from shared memory one word at a time; the prefill program still matches the reference. */
    @Test
    void gemmWithoutLdmatrixMatchesTheReference() {
        Pipeline.Result res = tiny(QuantMode.Q4F16_1);
        Target noLdmatrix = new Target(Platform.CUDA, "sm_80", caps(32, 48 * 1024, true, MatrixUnit.MMA_M16N8K16, false, false, true));
        Build b = Build.compile(res.graph(), noLdmatrix, Knobs.defaults(), 8);
        assertTrue(rules(b.prefill()).contains("gemm"));
        assertTrue(b.sources().values().stream().anyMatch(s -> s.contains("mma.sync")) && b.sources().values().stream().noneMatch(s -> s.contains("ldmatrix")));
        assertSimulatedPrefillMatches(res, b);
    }

    /** The build's prefill program on the simulator against the reference interpreter, for a prompt of 6 tokens. */
    static void assertSimulatedPrefillMatches(Pipeline.Result res, Build b) {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 2, 4, 2, false);
        TinyModel m = new TinyModel(c, ModelGraph.build(c, new ModelGraph.Options(16, QuantMode.Q4F16_1.kvCacheType(), false)), SEED);
        try (Arena a = Arena.ofShared(); var sim = new SimulatedExecutor(List.of(b.prefill()), res.memory(), m.weights(res.graph(), a), 8)) {
            var w = m.weights(res.graph(), a);
            int[] prompt = new Random(SEED).ints(6, 0, c.vocabSize()).toArray();
            float[] ref = new ReferenceInterpreter(res.graph(), w).run(prompt, 0, new ReferenceInterpreter.State());
            double err = TinyModel.relError(sim.run(b.prefill(), prompt, 0), ref);
            assertTrue(err < Precision.wholeModel(b.prefill()), "‖Δ‖/‖ref‖ = " + err + " (seed " + SEED + ")");
        }
    }
}
