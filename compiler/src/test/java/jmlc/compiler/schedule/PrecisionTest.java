package jmlc.compiler.schedule;

import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tolerances checks hold kernels to: by rule, and through Vulkan's looser exp() and division for the f32 rules. */
class PrecisionTest {
    @Test
    void vulkanDoublesOnlyTheF32Rules() {
        Target cuda = Target.parse("cuda:sm_90"), vulkan = Target.parse("vulkan"), rocm = Target.parse("rocm:gfx90a");
        assertEquals(1e-4, Precision.perNode("attention_decode", cuda));
        assertEquals(1e-4, Precision.perNode("attention_decode", rocm));
        assertEquals(2e-4, Precision.perNode("attention_decode", vulkan));
        for (String f16 : Precision.F16_RULES) assertEquals(Precision.perNode(f16), Precision.perNode(f16, vulkan), f16);
        assertEquals(5e-3, Precision.perNode("gemv_f16", vulkan));
    }

    /**
     * The f16 GEMV with dot4 (x in bytes) takes the int8 bounds, node and model; with dot4 0 the f16 ones: read off the
     * kernels' recorded knobs, so a tuning database that turns dot4 on loosens exactly its steps.
     */
    @Test
    void theF16GemvWithDot4TakesTheInt8Bounds() {
        var model = jmlc.compiler.TinyModel.config(jmlc.compiler.model.Architecture.LLAMA, 2, 4, 2, false);
        var graph = new jmlc.compiler.pass.Pipeline(jmlc.compiler.pass.Pipeline.standard(jmlc.compiler.quant.QuantMode.Q4F16_1), java.util.Set.of(), 8)
                .run(jmlc.compiler.model.ModelGraph.build(model, new jmlc.compiler.model.ModelGraph.Options(16, jmlc.compiler.quant.QuantMode.Q4F16_1.kvCacheType(), false))).graph();
        Target cuda = Target.parse("cuda:sm_90");
        Program plain = jmlc.compiler.build.Build.compile(graph, cuda, Knobs.defaults(), 16).decode();
        Knobs on = Knobs.defaults();
        plain.steps().stream().filter(s -> s.rule().equals("gemv_f16")).flatMap(s -> s.tunables().stream())
                .forEach(t -> on.put(t.space().signature(), java.util.Map.of("dot4", 1)));
        Program dot4 = jmlc.compiler.build.Build.compile(graph, cuda, on, 16).decode();
        assertEquals(1e-2, Precision.wholeModel(plain));
        assertEquals(Precision.INT8_MODEL, Precision.wholeModel(dot4));
        for (Program.Step s : dot4.steps()) {
            if (!s.rule().equals("gemv_f16")) {
                assertFalse(Precision.roundsXTo8Bits(s), s.rule());
                continue;
            }
            assertTrue(Precision.roundsXTo8Bits(s) && Precision.perNode(s, cuda) == Precision.INT8_NODE, s.calls().toString());
        }
        assertTrue(plain.steps().stream().filter(s -> s.rule().equals("gemv_f16")).allMatch(s -> Precision.perNode(s, cuda) == 5e-3));
    }

    /** f32 arithmetic on f16 activations and cache (q0f16) is held to the f16-storage bound; f32 throughout (q0f32) to 5e-4. */
    @Test
    void f16StorageLoosensOnlyTheProgramsThatStoreF16() {
        var model = jmlc.compiler.TinyModel.config(jmlc.compiler.model.Architecture.LLAMA, 2, 4, 2, false);
        Target cuda = Target.parse("cuda:sm_90");
        java.util.Map<jmlc.compiler.quant.QuantMode, Double> expected = java.util.Map.of(
                jmlc.compiler.quant.QuantMode.Q0F16, Precision.F16_STORAGE_MODEL, jmlc.compiler.quant.QuantMode.Q0F32, 5e-4);
        expected.forEach((mode, bound) -> {
            var graph = new jmlc.compiler.pass.Pipeline(jmlc.compiler.pass.Pipeline.standard(mode), java.util.Set.of(), 8)
                    .run(jmlc.compiler.model.ModelGraph.build(model, new jmlc.compiler.model.ModelGraph.Options(16, mode.kvCacheType(), false))).graph();
            Program decode = jmlc.compiler.build.Build.compile(graph, cuda, Knobs.defaults(), 16).decode();
            assertEquals(mode == jmlc.compiler.quant.QuantMode.Q0F16, Precision.storesF16(decode), mode.id());
            assertEquals(bound, Precision.wholeModel(decode), mode.id());
        });
    }
}
