package jmlc.compiler.schedule;

import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
