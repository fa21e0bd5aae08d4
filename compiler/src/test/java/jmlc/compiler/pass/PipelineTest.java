package jmlc.compiler.pass;

import jmlc.compiler.TinyModel;
import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphPrinter;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class PipelineTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run

    static Graph graph(ModelConfig c, QuantMode m, boolean allLogits) {
        return ModelGraph.build(c, new ModelGraph.Options(32, m.kvCacheType(), allLogits));
    }

    static int[] randomTokens(Random r, int n, int vocab) {
        return r.ints(n, 0, vocab).toArray();
    }

    @Test
    void fusedGraphHasOnlyFusedOps() {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 2, 4, 2, false);
        Pipeline.Result res = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), Set.of(), 8).run(graph(c, QuantMode.Q4F16_1, false));
        Map<String, Integer> ops = res.graph().opCounts();
        // per layer: qkv (norm prologue), o (+residual), gate_up (norm prologue), down (silu·mul prologue, +residual); and the LM head
        assertEquals(Map.of("embed", 1, "matmul_fused", 2 * 4 + 1, "rope_kv_append", 2, "attention", 2, "last_row", 1), ops, GraphPrinter.print(res.graph()));
        assertNotNull(res.graph().param("model.layers.1.self_attn.qkv_proj.weight"));
        assertNotNull(res.graph().param("model.layers.0.mlp.gate_up_proj.weight"));
        assertEquals(List.of("model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight"),
                res.graph().weightSource(res.graph().param("model.layers.0.mlp.gate_up_proj.weight")).tensors());
        // slots are reused: a handful of buffers, and a deeper model needs no more activation memory
        assertTrue(res.memory().slotBytes().size() < 8, "slots: " + res.memory().slotBytes());
        ModelConfig deep = TinyModel.config(Architecture.LLAMA, 6, 4, 2, false);
        MemoryPlan deepPlan = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), Set.of(), 8).run(graph(deep, QuantMode.Q4F16_1, false)).memory();
        assertEquals(res.memory().totalBytes(), deepPlan.totalBytes());
        assertTrue(deepPlan.totalBytes() < deepPlan.naiveBytes() / 8, deepPlan.totalBytes() + " of " + deepPlan.naiveBytes());
    }

    @Test
    void disabledPassLeavesItsPatternAndUnknownNameIsAnError() {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 1, 4, 4, false);
        Graph g = new Pipeline(Pipeline.standard(QuantMode.Q0F32), Set.of("FuseMatmulResidual", "FuseAddRmsNorm"), 4).run(graph(c, QuantMode.Q0F32, false)).graph();
        assertFalse(g.opCounts().containsKey("add_rms_norm"));
        assertEquals(2, g.opCounts().get("add"));
        Graph h = new Pipeline(Pipeline.standard(QuantMode.Q0F32), Set.of("FuseMatmulResidual", "FuseMatmulPrologue"), 4).run(graph(c, QuantMode.Q0F32, false)).graph();
        // the attention residual with the MLP norm; the last residual stays an add: last_row now sits before the final norm
        assertEquals(1, h.opCounts().get("add_rms_norm"));
        var e = assertThrows(IllegalArgumentException.class, () -> new Pipeline(Pipeline.standard(QuantMode.Q0F32), Set.of("FuseEverything"), 4));
        assertTrue(e.getMessage().contains("FuseEverything") && e.getMessage().contains("FuseAddRmsNorm"), e.getMessage());
    }

    /** Every pass preserves the function: fused f32 logits equal the unfused graph's. */
    @ParameterizedTest
    @EnumSource(Architecture.class)
    void fusedMatchesUnfusedInF32(Architecture arch) {
        ModelConfig c = TinyModel.config(arch, 2, 4, 2, arch == Architecture.QWEN2);
        Graph unfused = graph(c, QuantMode.Q0F32, false);
        Graph fused = new Pipeline(Pipeline.standard(QuantMode.Q0F32), Set.of(), 8).run(unfused).graph();
        TinyModel m = new TinyModel(c, unfused, SEED);
        Random r = new Random(SEED);
        int[] prompt = randomTokens(r, 5, c.vocabSize());
        try (Arena a = Arena.ofShared()) {
            var ref = new ReferenceInterpreter(unfused, m.weights(unfused, a));
            var out = new ReferenceInterpreter(fused, m.weights(fused, a));
            var s1 = new ReferenceInterpreter.State();
            var s2 = new ReferenceInterpreter.State();
            assertClose(ref.run(prompt, 0, s1), out.run(prompt, 0, s2), 1e-5, "prefill");
            for (int step = 0; step < 3; step++) {
                int[] t = {r.nextInt(c.vocabSize())};
                assertClose(ref.run(t, 5 + step, s1), out.run(t, 5 + step, s2), 1e-5, "decode step " + step);
            }
        }
    }

    /** Quantized and fused equals quantized-unfused (same dequantized weights, explicit dequantize nodes). */
    @ParameterizedTest
    @EnumSource(value = QuantMode.class)
    void quantizedFusedMatchesDequantizedReference(QuantMode mode) {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 2, 4, 1, true);
        Graph unfused = graph(c, mode, false);
        Graph quantOnly = new Pipeline(List.of(new FuseParallelMatmuls(), new QuantizeWeights(mode)), Set.of(), 4).run(unfused).graph();
        // f16 storage of matmul inputs rounds them: halfMatmulInputsRoundOnlyWhatAMatmulReads checks it on its own
        Graph fused = new Pipeline(Pipeline.standard(mode), Set.of("HalfMatmulInputs"), 4).run(unfused).graph();
        if (mode.scheme() != null) assertTrue(quantOnly.opCounts().containsKey("dequantize"));
        TinyModel m = new TinyModel(c, unfused, SEED + 1);
        int[] prompt = randomTokens(new Random(SEED), 4, c.vocabSize());
        try (Arena a = Arena.ofShared()) {
            float[] ref = new ReferenceInterpreter(quantOnly, m.weights(quantOnly, a)).run(prompt, 0, new ReferenceInterpreter.State());
            float[] out = new ReferenceInterpreter(fused, m.weights(fused, a)).run(prompt, 0, new ReferenceInterpreter.State());
            assertClose(ref, out, 1e-5, mode.id());
        }
    }

    /** Prefill then decode with the cache gives the logits of one full-sequence run. */
    @Test
    void kvCacheStepsEqualFullSequence() {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 2, 4, 2, false);
        Graph all = graph(c, QuantMode.Q0F32, true);
        Graph last = new Pipeline(Pipeline.standard(QuantMode.Q0F32), Set.of(), 8).run(graph(c, QuantMode.Q0F32, false)).graph();
        TinyModel m = new TinyModel(c, all, SEED + 2);
        int[] toks = randomTokens(new Random(SEED), 7, c.vocabSize());
        try (Arena a = Arena.ofShared()) {
            float[] full = new ReferenceInterpreter(all, m.weights(all, a)).run(toks, 0, new ReferenceInterpreter.State());
            var step = new ReferenceInterpreter(last, m.weights(last, a));
            var st = new ReferenceInterpreter.State();
            int v = c.vocabSize();
            float[] got = step.run(java.util.Arrays.copyOf(toks, 4), 0, st);
            assertClose(java.util.Arrays.copyOfRange(full, 3 * v, 4 * v), got, 1e-5, "after prefill");
            for (int i = 4; i < 7; i++) {
                got = step.run(new int[] {toks[i]}, i, st);
                assertClose(java.util.Arrays.copyOfRange(full, i * v, (i + 1) * v), got, 1e-5, "position " + i);
            }
        }
    }

    /**
     * In the f16 modes the attention and silu·mul outputs (read only as o's and down's x) are stored as f16, and
     * nothing else is: the residual stream, the norms' inputs and the logits stay f32. The interpreter rounds what
     * is stored as f16, so the logits move by about f16's precision and no more.
     */
    @ParameterizedTest
    @EnumSource(value = QuantMode.class)
    void halfMatmulInputsRoundOnlyWhatAMatmulReads(QuantMode mode) {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 2, 4, 2, false);
        Graph unfused = graph(c, mode, false);
        Graph f32 = new Pipeline(Pipeline.standard(mode), Set.of("HalfMatmulInputs"), 4).run(unfused).graph();
        Graph half = new Pipeline(Pipeline.standard(mode), Set.of(), 4).run(unfused).graph();
        int stored = 0;
        for (var n : half.nodes()) {
            for (var o : n.outputs()) {
                if (o.type().dtype() != DType.F16 || half.stateUpdates().containsValue(o)) continue;
                stored++;
                String where = GraphPrinter.node(n);
                assertTrue(n.op() instanceof jmlc.compiler.ir.Op.Attention
                        || n.op() instanceof jmlc.compiler.ir.Op.FusedMatMul f && f.siluMulPairs(), "f16 written by " + where);
                for (var u : half.users(o))
                    assertTrue(u.op() instanceof jmlc.compiler.ir.Op.FusedMatMul f && f.prologue() instanceof jmlc.compiler.ir.Op.Prologue.None
                            && u.input(0) == o && u.inputs().lastIndexOf(o) == 0, "f16 " + o + " read by " + GraphPrinter.node(u));
            }
        }
        assertEquals(mode.activations() == DType.F16 ? 2 * c.numLayers() : 0, stored, GraphPrinter.print(half));
        assertEquals(DType.F32, half.outputs().getFirst().type().dtype());
        TinyModel m = new TinyModel(c, unfused, SEED + 3);
        int[] prompt = randomTokens(new Random(SEED), 4, c.vocabSize());
        try (Arena a = Arena.ofShared()) {
            float[] ref = new ReferenceInterpreter(f32, m.weights(f32, a)).run(prompt, 0, new ReferenceInterpreter.State());
            float[][] attention = new float[1][];
            float[] out = new ReferenceInterpreter(half, m.weights(half, a)).run(prompt, 0, new ReferenceInterpreter.State(), (n, o) -> {
                if (n.op() instanceof jmlc.compiler.ir.Op.Attention && attention[0] == null) attention[0] = o[0];
            });
            if (mode.activations() != DType.F16) {
                assertArrayEquals(ref, out, mode.id());
                return;
            }
            for (float v : attention[0]) assertEquals(v, jmlc.compiler.quant.Half.roundToHalf(v), "attention output stored as f16");
            assertClose(ref, out, 5e-3, mode.id() + " with f16 matmul inputs");
            assertFalse(java.util.Arrays.equals(ref, out), "rounding o's and down's x to f16 changes the logits' last bits");
        }
    }

    @Test
    void f16CacheIsTyped() {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 1, 2, 2, false);
        Graph g = graph(c, QuantMode.Q4F16_1, false);
        assertEquals(DType.F16, g.state("k_cache.0").type().dtype());
    }

    static void assertClose(float[] ref, float[] out, double tol, String what) {
        assertEquals(ref.length, out.length, what);
        double err = TinyModel.relError(out, ref);
        assertTrue(err < tol, what + ": ‖Δ‖/‖ref‖ = " + err + " (seed " + SEED + ")");
    }
}
