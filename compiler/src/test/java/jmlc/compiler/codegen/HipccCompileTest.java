package jmlc.compiler.codegen;

import jmlc.compiler.target.Target;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HIP kernels the compiler generates for a real model shape, of every kind (every rule, f16 and
 * f32, 4-bit and dense weights, biases, unfused elementwise; {@link GeneratedKernels#sourcesOfEachKind})
 * compile for AMD GPUs with Debian's {@code hipcc} (ROCm 5.2, clang 15; {@code .ci/run} installs it),
 * device code only: CDNA gfx90a (64-lane waves) and RDNA gfx1030 (32-lane waves). Skipped, visibly,
 * where hipcc is missing. (hipcc takes about a second a kernel, so not every quantization's set.)
 */
class HipccCompileTest {

    @ParameterizedTest
    @ValueSource(strings = {"rocm:gfx90a", "rocm:gfx1030"})
    void everyGeneratedHipKernelCompiles(String target) throws Exception {
        Path hipcc = GeneratedKernels.tool("hipcc", "/opt/rocm/bin", "/usr/local/bin", "/usr/bin");
        Assumptions.assumeTrue(hipcc != null, "hipcc not found: the HIP compile check is SKIPPED (apt-get install hipcc)");
        Target t = Target.parse(target);
        String arch = t.arch();
        Map<String, String> ks = GeneratedKernels.sourcesOfEachKind(t);
        // HIP_PLATFORM=amd: with nvcc installed too, hipcc would otherwise compile for NVIDIA
        List<String> failures = GeneratedKernels.compileEach(ks, "hip", Map.of("HIP_PLATFORM", "amd"),
                f -> List.of(hipcc.toString(), "--offload-arch=" + arch, "--cuda-device-only", "-O3", "-c", "-o", f.toString().replace(".hip", ".o"), f.toString()));
        assertTrue(failures.isEmpty(), failures.size() + " of " + ks.size() + " kernels failed to compile for " + arch + ":\n" + String.join("\n", failures));
        System.out.println("hipcc --offload-arch=" + arch + ": " + ks.size() + " generated kernels compiled");
    }
}
