package jmlc.compiler.codegen;

import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every HIP kernel the compiler generates for whole real-shape models in every quantization
 * ({@link GeneratedKernels#sources}: Llama-2-7B, Llama-3-8B, Qwen2, biases, unfused) compiles to a
 * complete AMDGPU code object for the seed's AMD GPUs: gfx1100 (RX 7900 XTX, wave32, WMMA), gfx1033
 * (Steam Deck), gfx1030 (RDNA2), gfx90a (MI250, wave64, MFMA) and gfx942 (MI300X). With clang 19
 * and Debian's HIP headers, device code only and no device library ({@code -nogpulib}): the code
 * object links, so no kernel calls ockl or ocml (the HIP emitter uses amdgcn builtins), and it
 * defines every kernel. (Debian's hipcc, ROCm 5.2 with clang 15, cannot target gfx1100 and does not
 * know gfx942: {@link HipccCompileTest} checks clang 15 on gfx90a and gfx1030.) A target's kernels
 * compile as one translation unit, their shared prelude once ({@link GeneratedKernels#together}):
 * the headers are most of clang's time. Skipped, visibly, without clang-19 ({@code .ci/run}
 * installs clang-19, lld-19, llvm-19).
 */
class AmdCodeObjectTest {
    static final String KERNEL_START = "extern \"C\" __global__";

    static Path tool(String name) {
        return GeneratedKernels.tool(name, "/usr/lib/llvm-19/bin", "/usr/bin", "/usr/local/bin");
    }

    /** clang 19's command line for a HIP source to a code object for {@code arch}. */
    static List<String> clang(Path clang, String arch, Path src, Path out) {
        return List.of(clang.toString(), "-x", "hip", "--offload-arch=" + arch, "-nogpulib", "--cuda-device-only", "--no-gpu-bundle-output",
                "-O3", "-c", "-o", out.toString(), src.toString());
    }

    static final List<String> ARCHS = List.of("gfx1100", "gfx1033", "gfx1030", "gfx90a", "gfx942");

    @Test
    void everyGeneratedHipKernelCompilesToACodeObject() throws Exception {
        Path clang = tool("clang-19"), nm = tool("llvm-nm-19");
        Assumptions.assumeTrue(clang != null && nm != null, "clang-19 or llvm-nm-19 not found: the AMD code object check is SKIPPED (apt-get install clang-19 lld-19 llvm-19)");
        Map<String, Map<String, String>> sources = new LinkedHashMap<>();
        for (String arch : ARCHS) sources.put(arch, GeneratedKernels.sources(Target.parse("rocm:" + arch)));
        List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>(), done = new java.util.concurrent.CopyOnWriteArrayList<>();
        ARCHS.parallelStream().forEach(arch -> {
            try {
                done.add(compile(clang, nm, arch, sources.get(arch)));
            } catch (Exception | AssertionError e) {
                failures.add(arch + ": " + e.getMessage());
            }
        });
        done.forEach(System.out::println);
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    /** Compiles one target's kernels to one code object and checks it; returns a line saying what compiled. */
    private static String compile(Path clang, Path nm, String arch, Map<String, String> ks) throws Exception {
        String unit = GeneratedKernels.together(ks, KERNEL_START);
        Path dir = Files.createTempDirectory("jmlc-amd-" + arch);
        Path src = Files.writeString(dir.resolve("kernels.hip"), unit), obj = dir.resolve("kernels.hsaco");
        try {
            GeneratedKernels.run(clang(clang, arch, src, obj), Map.of());
        } catch (java.io.IOException e) {
            Set<String> failed = new TreeSet<>();
            Matcher m = Pattern.compile("kernels\\.hip:(\\d+):\\d+: error").matcher(e.getMessage());
            while (m.find()) failed.add(GeneratedKernels.kernelAtLine(unit, Integer.parseInt(m.group(1))));
            throw new AssertionError("kernels failing to compile: " + failed + "\n" + e.getMessage().lines().limit(60).reduce("", (a, b) -> a + b + "\n"));
        }
        byte[] elf = Files.readAllBytes(obj);
        assertTrue(elf.length > 64 && elf[0] == 0x7f && elf[1] == 'E' && elf[2] == 'L' && elf[3] == 'F', "an ELF code object");
        assertEquals(0xE0, (elf[18] & 0xff) | (elf[19] & 0xff) << 8, "e_machine EM_AMDGPU");
        String symbols = GeneratedKernels.run(List.of(nm.toString(), "--defined-only", obj.toString()), Map.of());
        List<String> missing = new ArrayList<>();
        for (String name : ks.keySet()) if (!symbols.contains(" " + name + ".kd\n")) missing.add(name);
        assertTrue(missing.isEmpty(), "kernel descriptors missing from the code object: " + missing);
        return "clang-19 --offload-arch=" + arch + " -nogpulib: " + ks.size() + " generated kernels in one code object (" + elf.length / 1024 + " KiB)";
    }
}
