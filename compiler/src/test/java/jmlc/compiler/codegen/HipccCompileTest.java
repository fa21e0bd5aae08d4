package jmlc.compiler.codegen;

import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The HIP kernels the compiler generates for a real model shape, of every kind (every rule, f16 and
 * f32, 4-bit and dense weights, biases, unfused elementwise; {@link GeneratedKernels#sourcesOfEachKind})
 * compile with Debian's {@code hipcc} (ROCm 5.2: clang 15, its
 * device libraries; {@code .ci/run} installs it), device code only, for CDNA gfx90a (64-lane waves,
 * MFMA) and RDNA gfx1030 (32-lane waves): the toolchain and headers of an older ROCm, as its hiprtc
 * would see them. (The newer targets and clang 19 are {@link AmdCodeObjectTest}'s.) A target's
 * kernels compile as one translation unit, their shared prelude once. Skipped, visibly, where hipcc
 * is missing.
 */
class HipccCompileTest {

    @ParameterizedTest
    @ValueSource(strings = {"rocm:gfx90a", "rocm:gfx1030"})
    void everyGeneratedHipKernelCompiles(String target) throws Exception {
        Path hipcc = GeneratedKernels.tool("hipcc", "/opt/rocm/bin", "/usr/local/bin", "/usr/bin");
        Assumptions.assumeTrue(hipcc != null, "hipcc not found: the HIP compile check is SKIPPED (apt-get install hipcc)");
        Target t = Target.parse(target);
        Map<String, String> ks = GeneratedKernels.sourcesOfEachKind(t);
        String unit = GeneratedKernels.together(ks, AmdCodeObjectTest.KERNEL_START);
        Path dir = Files.createTempDirectory("jmlc-hipcc");
        Path src = Files.writeString(dir.resolve("kernels.hip"), unit);
        try {
            // HIP_PLATFORM=amd: with nvcc installed too, hipcc would otherwise compile for NVIDIA
            GeneratedKernels.run(List.of(hipcc.toString(), "--offload-arch=" + t.arch(), "--cuda-device-only", "-O3", "-c",
                    "-o", dir.resolve("kernels.o").toString(), src.toString()), Map.of("HIP_PLATFORM", "amd"));
        } catch (java.io.IOException e) {
            Set<String> failed = new TreeSet<>();
            Matcher m = Pattern.compile("kernels\\.hip:(\\d+):\\d+: error").matcher(e.getMessage());
            while (m.find()) failed.add(GeneratedKernels.kernelAtLine(unit, Integer.parseInt(m.group(1))));
            fail("kernels failing to compile with hipcc for " + t.arch() + ": " + failed + "\n" + e.getMessage().lines().limit(60).reduce("", (a, b) -> a + b + "\n"));
        }
        System.out.println("hipcc --offload-arch=" + t.arch() + ": " + ks.size() + " generated kernels compiled");
    }
}
