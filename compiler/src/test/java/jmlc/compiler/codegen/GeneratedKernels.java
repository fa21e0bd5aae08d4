package jmlc.compiler.codegen;

import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.build.Build;
import jmlc.compiler.target.Target;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;

/**
 * The kernels the compiler generates for real model shapes in every quantization, for a target,
 * and a check that a vendor compiler takes each of them (the CUDA and HIP compile tests).
 */
final class GeneratedKernels {
    private GeneratedKernels() {}

    static ModelConfig llama2_7b() {
        return new ModelConfig(Architecture.LLAMA, 32000, 4096, 11008, 32, 32, 32, 128, 1e-5, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 4096, false, false);
    }

    static ModelConfig llama3_8b() {
        return new ModelConfig(Architecture.LLAMA, 128256, 4096, 14336, 32, 32, 8, 128, 1e-5, 500000, new RopeSpec.Scaling.Llama3(8, 1, 4, 8192), RopeSpec.Style.HALF, 8192, false, false);
    }

    /** Llama-3-70B's shapes with 2 of its 80 layers (the kernels are the same for each layer). */
    static ModelConfig llama3_70b() {
        return new ModelConfig(Architecture.LLAMA, 128256, 8192, 28672, 2, 64, 8, 128, 1e-5, 500000, new RopeSpec.Scaling.Llama3(8, 1, 4, 8192), RopeSpec.Style.HALF, 8192, false, false);
    }

    static ModelConfig qwen2() {
        return new ModelConfig(Architecture.QWEN2, 151936, 896, 4864, 2, 14, 2, 64, 1e-6, 1000000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 4096, true, true);
    }

    /** A model, its quantization and KV cache type, and the passes switched off. */
    record Case(ModelConfig c, QuantMode q, Set<String> disabled, jmlc.compiler.ir.DType kv) {
        Case(ModelConfig c, QuantMode q, Set<String> disabled) {
            this(c, q, disabled, q.kvCacheType());
        }
    }

    /** The int8 KV cache's kernels: fused (the decode attention appends) and unfused (kv_append). */
    static List<Case> int8Caches() {
        return List.of(new Case(llama2_7b(), QuantMode.Q4F16_1, Set.of(), jmlc.compiler.ir.DType.I8),
                new Case(llama2_7b(), QuantMode.Q4F16_1, UNFUSED, jmlc.compiler.ir.DType.I8));
    }

    private static final Set<String> UNFUSED = Set.of("FuseDequantMatmul", "FuseRopeKvAppend", "FuseSiluMul", "FuseAddRmsNorm");

    /** Every kernel's source (by name) of the builds of real models in every quantization, for a target. */
    static Map<String, String> sources(Target t) {
        return sources(t, List.of(
                new Case(llama2_7b(), QuantMode.Q4F16_1, Set.of()), new Case(llama2_7b(), QuantMode.Q4F32_1, Set.of()),
                new Case(llama2_7b(), QuantMode.Q8F16, Set.of()), new Case(llama2_7b(), QuantMode.Q0F16, Set.of()),
                new Case(llama2_7b(), QuantMode.Q0F32, Set.of()), new Case(llama2_7b(), QuantMode.Q4_0, Set.of()),
                new Case(llama3_8b(), QuantMode.Q4F16_1, Set.of()), new Case(qwen2(), QuantMode.Q4F16_1, Set.of()),
                // Llama with attention_bias: biased q/k/v and a biased o GEMV with the residual epilogue
                new Case(llama2_7b().withAttentionBias(true), QuantMode.Q4F16_1, Set.of()),
                // unfused: the elementwise kernels every pass removes
                new Case(llama2_7b(), QuantMode.Q4F16_1, UNFUSED),
                // the int8 KV cache
                int8Caches().get(0), int8Caches().get(1)));
    }

    /**
     * Fewer cases that still reach every rule and element type (f16 and f32 GEMVs over 4-bit and
     * dense weights, biases, the unfused elementwise kernels): for compilers that take seconds a kernel.
     */
    static Map<String, String> sourcesOfEachKind(Target t) {
        return sources(t, List.of(new Case(llama2_7b(), QuantMode.Q4F16_1, Set.of()), new Case(llama2_7b(), QuantMode.Q0F32, Set.of()),
                new Case(qwen2(), QuantMode.Q4F32_1, Set.of()), new Case(llama2_7b(), QuantMode.Q4F16_1, UNFUSED)));
    }

    /** Each case's graph after the pass pipeline: the same for every target, so made once. */
    private static final Map<Case, jmlc.compiler.ir.Graph> GRAPHS = new java.util.concurrent.ConcurrentHashMap<>();

    static jmlc.compiler.ir.Graph graph(Case k) {
        return GRAPHS.computeIfAbsent(k, x -> {
            int window = Math.min(4096, x.c().maxPositions());
            return new Pipeline(Pipeline.standard(x.q()), x.disabled(), 512).run(ModelGraph.build(x.c().withMaxPositions(window),
                    new ModelGraph.Options(window, x.kv(), false))).graph();
        });
    }

    /** The sources of every case's build, merged by kernel name (one name is one source across builds). */
    static Map<String, String> sources(Target t, List<Case> cases) {
        return sources(t, cases, Knobs.defaults());
    }

    /** The same with knob values from {@code knobs}. */
    static Map<String, String> sources(Target t, List<Case> cases, Knobs knobs) {
        Map<String, String> all = new LinkedHashMap<>();
        for (Case k : cases) {
            Build b = Build.compile(graph(k), t, knobs, 512);
            b.sources().forEach((name, source) -> {
                String seen = all.putIfAbsent(name, source);
                if (seen != null && !seen.equals(source)) throw new IllegalStateException("kernel " + name + " has two different sources");
            });
        }
        return all;
    }

    /**
     * The sources as one translation unit: the prelude they all share once, then every kernel (its
     * comment lines and body). For compilers whose cost is mostly the headers the prelude includes.
     * Fails if two kernels' preludes differ.
     */
    static String together(Map<String, String> sources, String kernelStart) {
        String prelude = null;
        StringBuilder body = new StringBuilder();
        for (var e : sources.entrySet()) {
            String src = e.getValue();
            int at = src.indexOf(kernelStart);
            if (at < 0) throw new IllegalStateException("kernel " + e.getKey() + " has no '" + kernelStart + "'");
            String head = src.substring(0, at);
            StringBuilder comments = new StringBuilder(), pre = new StringBuilder();
            boolean inHeader = true;
            for (String line : head.split("\n", -1)) {
                if (inHeader && line.startsWith("// ")) comments.append(line).append('\n');
                else {
                    inHeader = false;
                    pre.append(line).append('\n');
                }
            }
            if (prelude == null) prelude = pre.toString();
            else if (!prelude.equals(pre.toString())) throw new IllegalStateException("kernel " + e.getKey() + " has another prelude");
            body.append(comments).append(src.substring(at)).append('\n');
        }
        return (prelude == null ? "" : prelude) + body;
    }

    /** The kernel whose text holds line {@code line} (1-based) of a {@link #together} unit: the last "// NAME: " header before it. */
    static String kernelAtLine(String unit, int line) {
        String[] lines = unit.split("\n", -1);
        for (int i = Math.min(line, lines.length) - 1; i >= 0; i--)
            if (lines[i].startsWith("// ") && lines[i].contains(": ") && !lines[i].startsWith("// knobs:") && !lines[i].startsWith("// launch:"))
                return lines[i].substring(3, lines[i].indexOf(": "));
        return "(the prelude)";
    }

    /** Runs {@code command} (output merged); returns its output, or throws with it when the exit status is not 0. */
    static String run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException(String.join(" ", command) + " failed (" + p.exitValue() + "):\n" + out);
        return out;
    }

    /** The first executable {@code name} in {@code dirs}, or null. */
    static Path tool(String name, String... dirs) {
        for (String dir : dirs) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }

    /**
     * Writes each kernel's source ({@code name.ext}) and runs {@code command(file)} on it, several at
     * once; returns the failures, each with the compiler's output.
     */
    static List<String> compileEach(Map<String, String> sources, String ext, Map<String, String> env, Function<Path, List<String>> command) throws IOException {
        Path dir = Files.createTempDirectory("jmlc-" + ext);
        List<Path> files = new ArrayList<>();
        for (var e : sources.entrySet()) {
            Path f = dir.resolve(e.getKey() + "." + ext);
            Files.writeString(f, e.getValue());
            files.add(f);
        }
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        files.parallelStream().forEach(f -> {
            try {
                ProcessBuilder pb = new ProcessBuilder(command.apply(f)).redirectErrorStream(true);
                pb.environment().putAll(env);
                Process p = pb.start();
                String out = new String(p.getInputStream().readAllBytes());
                if (p.waitFor() != 0) failures.add(f.getFileName() + ":\n" + out);
            } catch (IOException | InterruptedException e) {
                failures.add(f.getFileName() + ": " + e);
            }
        });
        return List.copyOf(failures);
    }
}
