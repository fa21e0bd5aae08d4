package jmlc.engine.runtime.vulkan;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The runtime's SPIR-V cache: shaders that differ only in comments and in their specialization
 * constants' defaults compile once ({@link ShaderCompiler#compileSpecialized}), while the exact
 * module ({@link ShaderCompiler#compile}, what {@code jmlc compile --emit} writes) keeps its own
 * defaults. Needs LWJGL's shaderc natives, no device.
 */
class ShaderCompilerTest {
    static String shader(String name, int splits, long salt) {
        return "// " + name + ": a test kernel\n// knobs: splits=" + splits + "\n#version 450\n"
                + "layout(local_size_x = 32, local_size_y = 1, local_size_z = 1) in;\n"
                + "layout(constant_id = 0) const int knob_splits = " + splits + ";\n"
                + "layout(std430, binding = 0) buffer Out { int v[]; } o;\n"
                + "void main() { o.v[gl_LocalInvocationID.x] = knob_splits * 7 + " + salt + "; }\n";
    }

    @Test
    void shadersDifferingOnlyInSpecializationDefaultsShareOneModule(@TempDir Path cache) {
        String why = ShaderCompiler.unavailable();
        Assumptions.assumeTrue(why.isEmpty(), "shaderc unavailable, the SPIR-V cache check is SKIPPED: " + why);
        long salt = System.nanoTime() & 0xffff;
        try (ShaderCompiler sc = new ShaderCompiler(cache)) {
            byte[] a = sc.compileSpecialized("k_s32", shader("k_s32", 32, salt));
            byte[] b = sc.compileSpecialized("k_s8", shader("k_s8", 8, salt));
            assertEquals(1, sc.compilations(), "the second shader is the first's module");
            assertArrayEquals(a, b);
            byte[] exact = sc.compile("k_s8", shader("k_s8", 8, salt));
            assertEquals(2, sc.compilations(), "the exact module of 8 is compiled on its own");
            assertFalse(java.util.Arrays.equals(a, exact), "its default differs from the shared module's");
            sc.compileSpecialized("k_s16", shader("k_s16", 16, salt + 1));
            assertEquals(3, sc.compilations(), "a different body is a different module");
        }
        try (ShaderCompiler again = new ShaderCompiler(cache)) {
            again.compileSpecialized("k_s4", shader("k_s4", 4, salt));
            assertEquals(0, again.compilations(), "found on disk by a later process");
        }
    }

    @Test
    void theGenericSourceDropsCommentsAndDefaultsOnly() {
        assertEquals(ShaderCompiler.generic(shader("x", 32, 1)), ShaderCompiler.generic(shader("y", 5, 1)));
        assertNotEquals(ShaderCompiler.generic(shader("x", 32, 1)), ShaderCompiler.generic(shader("x", 32, 2)));
        assertTrue(ShaderCompiler.generic(shader("x", 32, 1)).contains("const int knob_splits = _;"));
    }
}
