package jmlc.engine.runtime.rocm;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * AMDGPU code objects ({@code .hsaco}) of generated HIP kernels, compiled ahead of time by clang for
 * {@code jmlc compile --target rocm:ARCH --emit DIR}: device code only and no device library
 * ({@code -nogpulib}), since the HIP emitter's kernels call none. The compiler is
 * {@code JMLC_HIP_CLANG}, else ROCm's ({@code $ROCM_PATH/llvm/bin/clang}, {@code /opt/rocm/llvm/bin/clang}),
 * else {@code clang-20} down to {@code clang-17} or {@code clang} on the PATH (Debian 12's clang-19 with
 * its libamdhip64-dev headers knows gfx1100, gfx1033, gfx1030, gfx90a and gfx942); the first that
 * compiles the first kernel for the target is used.
 */
public final class CodeObjects {
    private CodeObjects() {}

    /** What was compiled with what, and what failed (each with clang's output). */
    public record Result(String compiler, int compiled, List<String> failures) {}

    /** The clang command line for one kernel. */
    static List<String> command(String clang, String arch, Path src, Path out) {
        return List.of(clang, "-x", "hip", "--offload-arch=" + arch, "-nogpulib", "--cuda-device-only", "--no-gpu-bundle-output", "-O3",
                "-c", "-o", out.toString(), src.toString());
    }

    /** The compilers to try, in order, as found on this machine. */
    static List<String> candidates(Map<String, String> env) {
        List<String> c = new ArrayList<>();
        String named = env.get("JMLC_HIP_CLANG");
        if (named != null && !named.isBlank()) return List.of(named.trim());
        for (String root : new String[] {env.get("ROCM_PATH"), "/opt/rocm"})
            if (root != null && Files.isExecutable(Path.of(root, "llvm", "bin", "clang"))) c.add(Path.of(root, "llvm", "bin", "clang").toString());
        String path = env.getOrDefault("PATH", "/usr/bin:/bin");
        for (String name : new String[] {"clang-20", "clang-19", "clang-18", "clang-17", "clang"})
            for (String dir : path.split(File.pathSeparator))
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                    c.add(Path.of(dir, name).toString());
                    break;
                }
        return c;
    }

    /**
     * Compiles every {@code NAME.hip} in {@code sources} to {@code dir/NAME.hsaco} for {@code arch},
     * several at once; empty when no compiler here takes the target (and the reason in {@code why}).
     */
    public static Optional<Result> compile(String arch, Map<String, Path> sources, Path dir, Map<String, String> env, List<String> why, IntConsumer progress) {
        if (sources.isEmpty()) return Optional.empty();
        var first = sources.entrySet().iterator().next();
        String clang = null;
        for (String c : candidates(env)) {
            String out = run(command(c, arch, first.getValue(), dir.resolve(first.getKey() + ".hsaco")));
            if (out == null) {
                clang = c;
                break;
            }
            why.add(c + ": " + out.lines().filter(l -> l.contains("error")).findFirst().orElse(out.strip()));
        }
        if (clang == null) {
            if (why.isEmpty()) why.add("no clang found (clang 17 or newer with HIP headers, e.g. Debian's clang-19 and libamdhip64-dev, or ROCm; JMLC_HIP_CLANG names one)");
            return Optional.empty();
        }
        String cc = clang;
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger done = new AtomicInteger(1);
        progress.accept(1);
        sources.entrySet().stream().skip(1).parallel().forEach(e -> {
            String out = run(command(cc, arch, e.getValue(), dir.resolve(e.getKey() + ".hsaco")));
            if (out != null) failures.add(e.getKey() + ":\n" + out);
            progress.accept(done.incrementAndGet());
        });
        return Optional.of(new Result(cc + " --offload-arch=" + arch, sources.size() - failures.size(), List.copyOf(failures)));
    }

    /** Runs a compiler; null when it succeeded, else its output. */
    private static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            return p.waitFor() == 0 ? null : out.isBlank() ? "exit status " + p.exitValue() : out;
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
