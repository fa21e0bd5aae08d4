package jmlc.compiler.codegen;

import jmlc.compiler.build.Build;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A knob the kernel only computes with (the decode attention's {@code splits} in its partial kernel)
 * is a specialization constant in GLSL and a literal in CUDA C: the Vulkan shaders of two split
 * counts differ only in their comments and the constant's default, so the runtime compiles one
 * SPIR-V module for both and specializes each pipeline; a knob that shapes the code (the combine's
 * unrolled merge of the splits) stays a literal.
 */
class SpecializationConstantsTest {
    static final String ATTENTION_SHAPE = "h32_kv32_d128_c4096_f16";

    static Build build(Target t, int splits) {
        var graph = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), Set.of(), 512)
                .run(ModelGraph.build(GeneratedKernels.llama2_7b(), new ModelGraph.Options(4096, QuantMode.Q4F16_1.kvCacheType(), false))).graph();
        Knobs knobs = Knobs.defaults().put(new KernelSignature("attention_decode", ATTENTION_SHAPE, t), Map.of("splits", splits));
        return Build.compile(graph, t, knobs, 512);
    }

    static Kernel partial(Build b) {
        return b.decode().kernels().stream().filter(k -> k.name().startsWith("attention_decode_") && k.name().endsWith("_partial")).findFirst().orElseThrow();
    }

    /** The source without comment lines and with the constant's default blanked. */
    static String generic(String glsl) {
        return glsl.lines().filter(l -> !l.startsWith("//")).map(l -> l.replaceAll("(const int knob_splits = )\\d+;", "$1_;")).reduce("", (a, l) -> a + l + "\n");
    }

    @Test
    void anArithmeticKnobIsASpecializationConstantInGlslAndALiteralInC() {
        Target vulkan = Target.parse("vulkan");
        Build b32 = build(vulkan, 32), b8 = build(vulkan, 8);
        Kernel p32 = partial(b32), p8 = partial(b8);
        assertNotEquals(p32.name(), p8.name(), "kernel names keep naming their knob values");
        String g32 = b32.source(p32.name()), g8 = b8.source(p8.name());
        assertTrue(g8.contains("layout(constant_id = 0) const int knob_splits = 8;"), g8);
        assertTrue(g8.contains("/ knob_splits)"), "the chunk of the context a split takes is computed from the constant:\n" + g8);
        assertEquals(generic(g32), generic(g8), "the shaders of 32 and 8 splits differ only in comments and the constant's default");
        var emitter = new GlslEmitter(vulkan.caps());
        assertEquals(Map.of("splits", 8), emitter.specializationConstants(p8));

        Kernel combine = b8.decode().kernels().stream().filter(k -> k.name().contains("_s8_combine")).findFirst().orElseThrow();
        assertTrue(emitter.specializationConstants(combine).isEmpty(), "the combine's merge is unrolled over the splits: a literal");
        assertFalse(b8.source(combine.name()).contains("constant_id"), b8.source(combine.name()));

        Target cuda = Target.parse("cuda:sm_90");
        Build c8 = build(cuda, 8);
        String cu = c8.source(partial(c8).name());
        assertFalse(cu.contains("knob_"), "CUDA C prints the value");
        assertTrue(cu.contains("((len + (8 - 1)) / 8)"), cu);
    }
}
