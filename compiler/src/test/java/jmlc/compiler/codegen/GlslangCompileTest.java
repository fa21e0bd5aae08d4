package jmlc.compiler.codegen;

import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every GLSL compute shader the compiler generates for real model shapes in every quantization is
 * valid Vulkan GLSL: glslangValidator ({@code apt-get install glslang-tools}; {@code .ci/run}
 * installs it) compiles each to SPIR-V for Vulkan 1.2, at subgroup widths 32 (most GPUs), 64 (AMD
 * in wave64) and 8 (Mesa's lavapipe on AVX2). Skipped, visibly, where glslangValidator is missing.
 */
class GlslangCompileTest {

    @ParameterizedTest
    @ValueSource(strings = {"vulkan", "vulkan:sg64", "vulkan:sg8"})
    void everyGeneratedShaderCompilesToSpirv(String target) throws Exception {
        Path glslang = GeneratedKernels.tool("glslangValidator", "/usr/bin", "/usr/local/bin");
        Assumptions.assumeTrue(glslang != null, "glslangValidator not found: the GLSL check is SKIPPED (apt-get install glslang-tools)");
        Map<String, String> shaders = target.equals("vulkan") ? GeneratedKernels.sources(Target.parse(target)) : GeneratedKernels.sourcesOfEachKind(Target.parse(target));
        List<String> failures = GeneratedKernels.compileEach(shaders, "comp", Map.of(),
                f -> List.of(glslang.toString(), "--target-env", "vulkan1.2", "-o", f.toString().replace(".comp", ".spv"), f.toString()));
        assertTrue(failures.isEmpty(), failures.size() + " of " + shaders.size() + " shaders failed for " + target + ":\n" + String.join("\n", failures));
        System.out.println("glslangValidator --target-env vulkan1.2 (" + target + "): " + shaders.size() + " generated shaders compiled");
    }

    /**
     * The int8 KV cache's shaders with 8-bit storage ({@code int8_t} buffers) and without it (bytes
     * through 32-bit words: bit-field extracts, atomic stores), both valid Vulkan GLSL.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void int8KvCacheShadersCompileWithAndWithout8BitStorage(boolean storage8) throws Exception {
        Path glslang = GeneratedKernels.tool("glslangValidator", "/usr/bin", "/usr/local/bin");
        Assumptions.assumeTrue(glslang != null, "glslangValidator not found: the GLSL check is SKIPPED (apt-get install glslang-tools)");
        Target t = Target.vulkan("generic", Target.parse("vulkan").caps().withStorage8(storage8));
        Map<String, String> shaders = new java.util.TreeMap<>();
        GeneratedKernels.sources(t, GeneratedKernels.int8Caches()).forEach((name, src) -> { if (src.contains("cache_scales @")) shaders.put(name, src); });
        assertTrue(shaders.size() >= 4, "attention and cache appends of an int8 cache: " + shaders.keySet());
        for (String src : shaders.values())
            assertTrue(src.contains("GL_EXT_shader_8bit_storage") == src.contains("int8_t") && (storage8 || !src.contains("int8_t")),
                    "bytes through " + (storage8 ? "8-bit storage" : "words") + ":\n" + src);
        assertTrue(shaders.values().stream().anyMatch(src -> src.contains("int8_t v[]")) == storage8, "int8_t buffers only with 8-bit storage");
        assertTrue(shaders.values().stream().anyMatch(src -> src.contains("atomicOr(")) != storage8, "byte stores through atomics on words only without 8-bit storage");
        List<String> failures = GeneratedKernels.compileEach(shaders, "comp", Map.of(),
                f -> List.of(glslang.toString(), "--target-env", "vulkan1.2", "-o", f.toString().replace(".comp", ".spv"), f.toString()));
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        System.out.println("glslangValidator --target-env vulkan1.2 (i8 KV cache, " + (storage8 ? "8-bit storage" : "no 8-bit storage") + "): " + shaders.size() + " shaders compiled");
    }

    /**
     * A Vulkan device with integer dot products: the 8-bit GEMVs call OpSDot through
     * GL_EXT_spirv_intrinsics, and the SPIR-V has the DotProduct capabilities.
     */
    @Test
    void eightBitGemvsWithIntegerDotProductsCompile() throws Exception {
        Path glslang = GeneratedKernels.tool("glslangValidator", "/usr/bin", "/usr/local/bin");
        Assumptions.assumeTrue(glslang != null, "glslangValidator not found: the GLSL check is SKIPPED (apt-get install glslang-tools)");
        Target dot4 = Target.vulkan("dot4", Target.parse("vulkan").caps().withDot4(true));
        Map<String, String> shaders = new java.util.TreeMap<>();
        GeneratedKernels.sources(dot4, List.of(new GeneratedKernels.Case(GeneratedKernels.llama2_7b(), jmlc.compiler.quant.QuantMode.Q8F16, java.util.Set.of())))
                .forEach((name, src) -> { if (src.contains("jmlc_sdot4(")) shaders.put(name, src); });
        assertTrue(shaders.size() >= 4, "the 7B's q8 GEMVs use dot4: " + shaders.keySet());
        List<String> failures = GeneratedKernels.compileEach(shaders, "comp", Map.of(),
                f -> List.of(glslang.toString(), "--target-env", "vulkan1.2", "-o", f.toString().replace(".comp", ".spv"), f.toString()));
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        System.out.println("glslangValidator --target-env vulkan1.2 (dot4): " + shaders.size() + " 8-bit GEMV shaders compiled");
    }

    /** The same device: the 4-bit GEMVs with x in bytes (knob dot4: shuffles of a group's lanes, OpSDot of nibbles) compile. */
    @Test
    void fourBitGemvsWithXInBytesCompile() throws Exception {
        Path glslang = GeneratedKernels.tool("glslangValidator", "/usr/bin", "/usr/local/bin");
        Assumptions.assumeTrue(glslang != null, "glslangValidator not found: the GLSL check is SKIPPED (apt-get install glslang-tools)");
        Target dot4 = Target.vulkan("dot4", Target.parse("vulkan").caps().withDot4(true));
        List<GeneratedKernels.Case> cases = List.of(new GeneratedKernels.Case(GeneratedKernels.llama2_7b(), jmlc.compiler.quant.QuantMode.Q4F16_1, java.util.Set.of()));
        jmlc.compiler.schedule.Knobs knobs = jmlc.compiler.schedule.Knobs.defaults().putEvery("gemvh",
                jmlc.compiler.build.Build.compile(GeneratedKernels.graph(cases.getFirst()), dot4, jmlc.compiler.schedule.Knobs.defaults(), 512).decode(), Map.of("dot4", 1));
        Map<String, String> shaders = new java.util.TreeMap<>();
        GeneratedKernels.sources(dot4, cases, knobs).forEach((name, src) -> { if (name.startsWith("gemvh") && src.contains("jmlc_sdot4(")) shaders.put(name, src); });
        assertTrue(shaders.size() >= 5, "the 7B's 4-bit GEMVs with dot4: " + shaders.keySet());
        List<String> failures = GeneratedKernels.compileEach(shaders, "comp", Map.of(),
                f -> List.of(glslang.toString(), "--target-env", "vulkan1.2", "-o", f.toString().replace(".comp", ".spv"), f.toString()));
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        System.out.println("glslangValidator --target-env vulkan1.2 (4-bit GEMVs, dot4): " + shaders.size() + " shaders compiled");
    }
}
