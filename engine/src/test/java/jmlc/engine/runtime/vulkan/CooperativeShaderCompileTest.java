package jmlc.engine.runtime.vulkan;

import jmlc.compiler.build.Build;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The prefill GEMMs for a Vulkan device with cooperative matrices ({@code vulkan:coopmat}) are valid
 * GLSL that shaderc (the runtime's compiler, LWJGL's build) turns into SPIR-V with the cooperative
 * matrix capability, at Llama-2-7B's shapes in the quantizations that have an f16 GEMM; the Debian
 * glslangValidator CI has is older than GL_KHR_cooperative_matrix, so this check is shaderc's. What
 * the kernels compute is checked in the simulator (the compiler's SimulatedProgramTest) and on a
 * GPU by the GPU suite.
 */
class CooperativeShaderCompileTest {

    @Test
    void prefillGemmsCompileWithCooperativeMatrices() {
        String why = ShaderCompiler.unavailable();
        Assumptions.assumeTrue(why.isEmpty(), "shaderc unavailable, the cooperative-matrix shader check is SKIPPED: " + why);
        ModelConfig c = new ModelConfig(Architecture.LLAMA, 32000, 4096, 11008, 32, 32, 32, 128, 1e-5, 10000, new RopeSpec.Scaling.None(),
                RopeSpec.Style.HALF, 4096, false, false).withMaxPositions(1024);
        Target t = Target.parse("vulkan:coopmat");
        List<String> failures = new ArrayList<>();
        int gemms = 0;
        try (ShaderCompiler sc = new ShaderCompiler()) {
            for (QuantMode q : List.of(QuantMode.Q4F16_1, QuantMode.Q0F16, QuantMode.Q8F16)) {
                var graph = new Pipeline(Pipeline.standard(q), java.util.Set.of(), 512).run(ModelGraph.build(c, new ModelGraph.Options(1024, q.kvCacheType(), false))).graph();
                for (Map.Entry<String, String> e : Build.compile(graph, t, Knobs.defaults(), 512).sources().entrySet()) {
                    if (!e.getValue().contains("coopMatMulAdd")) continue;
                    gemms++;
                    try {
                        byte[] spv = sc.compile(e.getKey(), e.getValue());
                        // OpCapability CooperativeMatrixKHR (6022): the shader really uses the matrix unit
                        assertTrue(hasCapability(spv, 6022), e.getKey() + ": no CooperativeMatrixKHR capability in its SPIR-V");
                    } catch (RuntimeException x) {
                        failures.add(e.getKey() + ": " + x.getMessage());
                    }
                }
            }
        }
        assertTrue(gemms >= 6, "expected the prefill GEMMs (qkv, o, gate/up, down, per quantization) to use cooperative matrices, found " + gemms);
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        System.out.println("shaderc: " + gemms + " cooperative-matrix GEMM shaders compiled (vulkan:coopmat, Llama-2-7B shapes)");
    }

    /** Whether the SPIR-V words declare {@code OpCapability cap} (opcode 17). */
    static boolean hasCapability(byte[] spv, int cap) {
        var words = java.nio.ByteBuffer.wrap(spv).order(java.nio.ByteOrder.LITTLE_ENDIAN).asIntBuffer();
        for (int i = 5; i < words.limit(); ) {
            int w = words.get(i), op = w & 0xffff, len = w >>> 16;
            if (op == 17 && len == 2 && words.get(i + 1) == cap) return true;
            if (len == 0) return false;
            i += len;
        }
        return false;
    }
}
