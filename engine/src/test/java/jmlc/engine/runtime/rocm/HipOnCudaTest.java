package jmlc.engine.runtime.rocm;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ROCm runtime's whole path without a GPU: bench/hip-on-cuda/hip_on_cuda.c (the HIP-on-CUDA
 * library the GPU machine runs jmlc's ROCm runtime through) built here, over a mock CUDA driver and
 * NVRTC (test resource rocm/mock_cuda.c: host memory, launches run on the host, capture records and
 * replays them). In processes of their own, so the mock never meets the CUDA backend:
 * <ul>
 * <li>{@link RocmMockProbe} calls every part of the device contract through the FFM bindings and the
 *     library: detection and device properties (the R0600 layout), copies, a generated kernel
 *     compiled through hiprtc and launched with its parameters, capture and replay, pinned memory,
 *     events, timing, a compile error's log;
 * <li>{@code jmlc generate synthetic:tiny --device rocm:0} loads a model, compiles its kernels, captures
 *     its decode steps and generates (the mock's kernels compute nothing, so only the path is checked:
 *     the library's call counts show captures and one graph replay per generated token).
 * </ul>
 * What it cannot show is the GPU's side: bench/rocm-on-cuda.sh runs the same library on the GPU
 * machine's real driver. Skipped, visibly, without a C compiler or CUDA's cuda.h.
 */
class HipOnCudaTest {
    static Path shim, mock;

    @BeforeAll
    static void build(@TempDir Path dir) throws Exception {
        Path cc = Stream.of("/usr/bin/gcc", "/usr/bin/cc", "/usr/bin/clang-19", "/usr/lib/llvm-19/bin/clang").map(Path::of).filter(Files::isExecutable).findFirst().orElse(null);
        Path inc = Stream.of("/usr/local/cuda/include", "/usr/local/cuda-13.0/include", "/usr/include").map(Path::of)
                .filter(p -> Files.exists(p.resolve("cuda.h"))).findFirst().orElse(null);
        Assumptions.assumeTrue(cc != null && inc != null, "no C compiler or no cuda.h: the HIP-on-CUDA checks are SKIPPED");
        Path root = Path.of(System.getProperty("user.dir")).getParent(); // engine/ is the test's working directory
        Path mockSrc = dir.resolve("mock_cuda.c");
        try (var in = HipOnCudaTest.class.getResourceAsStream("/rocm/mock_cuda.c")) {
            Files.copy(in, mockSrc);
        }
        shim = dir.resolve("libhip_on_cuda.so");
        mock = dir.resolve("libmockcuda.so");
        run(List.of(cc.toString(), "-O1", "-Wall", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden", "-I" + inc,
                root.resolve("bench/hip-on-cuda/hip_on_cuda.c").toString(), "-o", shim.toString(), "-ldl", "-lpthread"), Map.of(), dir);
        run(List.of(cc.toString(), "-O1", "-shared", "-fPIC", "-fvisibility=hidden", "-I" + inc, mockSrc.toString(), "-o", mock.toString()), Map.of(), dir);
    }

    /** Runs {@code command}; returns its output (merged), failing with it when the exit status is not 0. */
    static String run(List<String> command, Map<String, String> env, Path dir) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    /** A JVM on the test class path running {@code main} with the library pointed at the mock. */
    static String java(Path dir, Path trace, String main, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "--add-modules=jdk.incubator.vector", "-Xss8m",
                "-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(List.of(args));
        Map<String, String> env = new HashMap<>(Map.of("JMLC_HIP_LIBRARY", shim.toString(), "JMLC_CUDA_LIBRARY", mock.toString(),
                "JMLC_NVRTC_LIBRARY", mock.toString(), "JMLC_CACHE", dir.resolve("cache").toString(), "JMLC_HIP_ON_CUDA_TRACE", trace.toString()));
        return run(cmd, env, dir);
    }

    @Test
    void theDeviceContractThroughTheLibrary(@TempDir Path dir) throws Exception {
        String out = java(dir, dir.resolve("trace.txt"), RocmMockProbe.class.getName());
        assertTrue(out.contains("DEVICE rocm:0 | Mock GPU | sm_90 (HIP on NVIDIA: CUDA C kernels) | HIP 6.3.13000"), out);
        // CUDA's kernels, but HIP launches none cooperatively: no grid barriers, so no persistent decode kernels
        assertTrue(out.contains("TARGET cuda:sm_90 without grid barriers"), out);
        for (String step : new String[] {"ROUNDTRIP ok", "COPY ok ZERO ok", "LAUNCH ok", "CAPTURE ok", "PINNED ok", "TIME 0.5", "FREE 536870912", "CLOSED"})
            assertTrue(out.contains(step), step + "\n" + out);
        assertTrue(out.contains("ERROR kernel broken failed to compile with hiprtc 13.0") && out.contains("mock nvrtc: error"), out);
        Map<String, Long> calls = trace(dir.resolve("trace.txt"));
        assertEquals(1, calls.get("hipStreamBeginCapture"), calls.toString());
        assertEquals(2, calls.get("hipGraphLaunch"), calls.toString());
        assertEquals(4, calls.get("hipModuleLaunchKernel"), calls.toString()); // launched, two captured, timed
    }

    @Test
    void aModelGeneratesThroughCapturedDecodeSteps(@TempDir Path dir) throws Exception {
        Path trace = dir.resolve("trace.txt");
        String out = java(dir, trace, "jmlc.engine.cli.Main", "generate", "synthetic:tiny", "--device", "rocm:0", "--tokens", "1,2,3,4,5,6,7,8",
                "--max-tokens", "6", "--ignore-eos", "--greedy", "--json", "--quiet");
        assertTrue(out.contains("{\"tokens\":[0,0,0,0,0,0]}"), out); // the mock's kernels compute nothing: logits stay zero
        Map<String, Long> calls = trace(trace);
        assertTrue(calls.get("hipModuleLoadData") >= 10 && calls.get("hiprtcCompileProgram") >= 10, calls.toString());
        // a CUDA C target: the short-context decode program too (ShortContextDecode), so each of the two programs captured three times
        assertEquals(6, calls.get("hipStreamBeginCapture"), "decode step, greedy step, sampling step captured for each decode program: " + calls);
        assertTrue(calls.get("hipGraphLaunch") >= 5, "one replay per generated token after the prefill: " + calls);
        assertTrue(calls.get("hipModuleLaunchKernel") > 0, "the 8-token prompt ran the prefill program launch by launch: " + calls);
    }

    static Map<String, Long> trace(Path f) throws IOException {
        Map<String, Long> m = new HashMap<>();
        for (String line : Files.readAllLines(f)) {
            String[] p = line.split(" ");
            m.put(p[0], Long.parseLong(p[1]));
        }
        return m;
    }
}
