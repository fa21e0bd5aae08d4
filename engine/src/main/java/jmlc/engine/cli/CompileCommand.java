package jmlc.engine.cli;

import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.pass.MemoryPlan;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.ir.GraphPrinter;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.build.Build;
import jmlc.engine.runtime.vulkan.ShaderCompiler;
import jmlc.compiler.target.Platform;
import jmlc.engine.tuning.TunedBuild;
import jmlc.engine.tuning.TuningDatabase;
import jmlc.compiler.target.Target;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.Checkpoints;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.api.ModelLoader;
import jmlc.engine.model.SyntheticModels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code jmlc compile MODEL --target cuda:sm_90 --emit DIR}: runs the pass pipeline and the
 * schedule rules without a GPU, and writes what they made: the IR after each phase, the memory
 * plan, and every kernel of the decode and prefill programs as one self-contained source file.
 */
@Command(name = "compile", mixinStandardHelpOptions = true, sortOptions = false, header = "Compile for a GPU target (no GPU needed): IR per phase, memory plan, kernel sources.",
        description = {"Compile a model for a GPU target without needing the GPU: print a summary (phases with node counts and "
                + "times, the memory plan, kernels and launches of the decode and prefill programs) and, with --emit DIR, write",
                "  DIR/ir/NN-PHASE.txt      the graph after each phase of the pass pipeline",
                "  DIR/memory.txt           the memory plan of intermediate values",
                "  DIR/kernels/NAME.cu      every kernel of both programs and the sampling kernels, one self-contained file each (.hip for ROCm targets,",
                "                           .comp GLSL for Vulkan targets, with its SPIR-V as NAME.spv)",
                "  DIR/kernels/NAME.hsaco   for ROCm targets, each kernel's AMDGPU code object, where a clang that knows the target is found",
                "                           (clang 17+ with HIP headers, e.g. Debian 12's clang-19 and libamdhip64-dev, or ROCm's; JMLC_HIP_CLANG names one)",
                "  DIR/index.tsv            kernel, rule, launches per decode step and per prefill step, summary",
                "  DIR/knobs.txt            every kernel signature's knobs: the value used, default, allowed values, what a search tries",
                "  DIR/summary.txt          the summary printed",
                "The knob values come from the tuning database of the one device tuned for the target ('jmlc tune'), if there is one."})
final class CompileCommand implements Callable<Integer> {
    private final CliContext ctx;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "A model directory, a .gguf file, or synthetic:NAME (only its config is read).")
    String model;

    @Option(names = "--target", paramLabel = "T", defaultValue = "cuda:sm_90",
            description = "cuda:sm_80, cuda:sm_90, rocm:gfx90a, rocm:gfx1100 (hip: is the same as rocm:), vulkan, vulkan:sg64 ... (default: ${DEFAULT-VALUE}).")
    String target;

    @Option(names = "--quant", paramLabel = "Q", converter = Converters.Quant.class,
            description = "Weight quantization: q4f16_1, q4f32_1, q8f16, q4_0, q0f16, q0f32 (default: q4f16_1; a .gguf file: as stored).")
    QuantMode quant;

    @Option(names = "--emit", paramLabel = "DIR", description = "Write the IR, memory plan, kernels and index here.")
    Path emit;

    @Option(names = "--no-code-objects", description = "Write the kernel sources only: no .hsaco code objects for ROCm targets, no .spv for Vulkan targets.")
    boolean noCodeObjects;

    @Option(names = "--disable-pass", paramLabel = "NAME", description = "Switch a compiler pass off (repeatable), as for chat.")
    List<String> disabledPasses = new ArrayList<>();

    @Option(names = "--max-context", paramLabel = "N", description = "KV cache length (default: the model's window, at most 4096).")
    Integer maxContext;

    @Option(names = "--kv-cache", paramLabel = "T", converter = Converters.KvCache.class,
            description = "KV cache type: f16, f32 or i8 (default: f32 for q4f32_1 and q0f32, else f16).")
    jmlc.compiler.ir.DType kvCache;

    @Option(names = "--tuning", paramLabel = "FILE",
            description = "A tuning database to take knob values from, or 'none' for the rules' defaults (default: the database of the one device "
                    + "tuned for the target in ~/.cache/jmlc/tuning, or $JMLC_TUNING).")
    String tuning;

    @Option(names = "--knob", paramLabel = "SIG.KNOB=V",
            description = "Set one knob for this compile, over the tuning database (repeatable): the signature as knobs.txt prints it, "
                    + "e.g. decode_persistent.kernels=4 or attention_decode_h32_kv32_d128_c4096_f16.wide=1. A value the rule refuses is an error.")
    List<String> knobs = new ArrayList<>();

    CompileCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() throws IOException {
        ModelOptions.checkModel(spec.commandLine(), model);
        Target t;
        try {
            t = Target.parse(target);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--target " + target + ": " + e.getMessage());
        }
        ModelOptions.checkPasses(spec.commandLine(), disabledPasses, quant);
        ModelOptions.checkMaxContext(spec.commandLine(), maxContext);

        if (emit != null) prepareEmitFolder();

        ModelConfig config;
        QuantMode q = quant;
        if (SyntheticModels.isSynthetic(model)) {
            config = SyntheticModels.require(model);
        } else {
            try (Checkpoint c = Checkpoints.open(Path.of(model))) {
                config = c.config();
                if (q == null) q = ModelLoader.naturalQuant(c);
            }
        }
        if (q == null) q = QuantMode.Q4F16_1;
        int window = maxContext != null ? maxContext : Math.min(config.maxPositions(), ModelLoader.DEFAULT_MAX_CONTEXT);
        if (window > config.maxPositions())
            throw new ParameterException(spec.commandLine(), "--max-context " + window + " exceeds the model's context window of " + config.maxPositions());

        ProgressBar bar = new ProgressBar(ctx);
        bar.update("compiling graph (" + q + ")", 0, 1);
        CompiledModel compiled = CompiledModel.compile(config, q, q.kvCacheType(kvCache), window, false, new HashSet<>(disabledPasses), ModelLoader.MAX_STEP_TOKENS);
        bar.update("scheduling for " + t, 0, 1);
        // the same compile path and tuning database as a model loaded onto a device of this target
        // and the environment's overrides of it, as a loaded model takes them (JMLC_PERSISTENT)
        TuningDatabase.Loaded db = jmlc.engine.runtime.gpu.GpuBackend.withSettings(database(t), jmlc.engine.runtime.RuntimeSettings.defaults().withEnvironment(System.getenv()), t,
                w -> ctx.err.println("jmlc: warning: " + w));
        jmlc.engine.tuning.KnobOverrides overrides;
        try {
            overrides = jmlc.engine.tuning.KnobOverrides.parse(knobs);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Build build;
        try {
            build = TunedBuild.compile(compiled.graph(), t, db, overrides, compiled.maxStepTokens(), w -> ctx.err.println("jmlc: warning: " + w));
        } catch (IllegalArgumentException e) {
            if (e.getCause() instanceof jmlc.compiler.schedule.InvalidKnobException) throw new ParameterException(spec.commandLine(), e.getMessage()); // a --knob value
            throw e;
        }
        bar.finish("compiled " + model + " for " + t);

        List<String> summary = summary(config, compiled, t, build);
        summary.add(db.file() == null ? "tuning: none (the rules' defaults)" : "tuning: " + db.file() + " (" + db.records().size() + " kernel signatures)");
        if (emit != null) summary.add(write(emit, compiled, build, summary, bar));
        summary.forEach(ctx.out::println);
        ctx.out.flush();
        return 0;
    }

    /** The database {@code --tuning} names, or the one for the target. */
    private TuningDatabase.Loaded database(Target t) {
        if ("none".equals(tuning)) return TuningDatabase.Loaded.none(null, List.of());
        if (tuning == null) return TuningDatabase.forTarget(TuningDatabase.directory(), t.toString(), null);
        Path f = Path.of(tuning);
        if (!Files.isRegularFile(f)) throw new ParameterException(spec.commandLine(), "--tuning " + tuning + ": no such file (a tuning database, or 'none')");
        TuningDatabase.Loaded db = TuningDatabase.read(f, null);
        var id = TuningDatabase.identity(f);
        if (id != null && !id.target().equals(t.toString()))
            return new TuningDatabase.Loaded(db.knobs(), db.records(), f, java.util.stream.Stream.concat(db.warnings().stream(),
                    java.util.stream.Stream.of(f + " was tuned on " + id + ", not for " + t + ": its entries for " + id.target() + " do not apply")).toList());
        return db;
    }

    private List<String> summary(ModelConfig c, CompiledModel m, Target t, Build build) {
        Program decode = build.decode(), prefill = build.prefill();
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "%s: %s, %d layers, hidden %d; %s, context %d; target %s",
                model, c.architecture().name().toLowerCase(Locale.ROOT), c.numLayers(), c.hiddenSize(), m.quant(), m.maxContext(), t));
        lines.add("phases:");
        var phases = m.pipeline().phases();
        for (int i = 0; i < phases.size(); i++) {
            var p = phases.get(i);
            lines.add(String.format(Locale.ROOT, "  %02d %-28s %6d nodes %9.1f ms", i, p.name(), p.graph().nodes().size(), p.nanos() / 1e6));
        }
        MemoryPlan mem = m.pipeline().memory();
        lines.add(String.format(Locale.ROOT, "memory plan: %d values in %d buffers, %s (%s if each had its own)",
                mem.slotOf().size(), mem.slotBytes().size(), ProgressBar.bytes(mem.totalBytes()), ProgressBar.bytes(mem.naiveBytes())));
        lines.add(String.format(Locale.ROOT, "decode program:  %d kernels, %d launches per token", decode.kernels().size(), decode.launches()));
        List<Kernel> persistent = decode.launched().stream().map(KernelCall::kernel).filter(Kernel::gridBarriers).toList();
        if (!persistent.isEmpty()) {
            lines.add(String.format(Locale.ROOT, "  %d of the launches persistent kernels that run %d GEMV launches with grid barriers between (%s.kernels = %d)",
                    persistent.size(), persistent.stream().mapToInt(k -> k.knobs().get("kernels")).sum(),
                    jmlc.compiler.build.PersistentDecode.KIND, build.persistent()));
        }
        List<Kernel> hosts = decode.launched().stream().map(KernelCall::kernel).filter(jmlc.compiler.build.WeightPrefetch::hosts).toList();
        if (!hosts.isEmpty())
            lines.add(String.format(Locale.ROOT, "  %d of the launches ask the L2 for the next GEMVs' weights while they run, %.1f MiB in all (%s.mib = %d)",
                    hosts.size(), hosts.stream().mapToInt(k -> k.knobs().get(jmlc.compiler.build.WeightPrefetch.HOST_KNOB)).sum() / 1024.0,
                    jmlc.compiler.build.WeightPrefetch.KIND, build.prefetchMib()));
        if (build.shortDecode() != null)
            lines.add(String.format(Locale.ROOT, "  below position %d: %d kernels, %d launches per token (the attention in one block per KV head, no combine)",
                    build.shortContext(), build.shortDecode().kernels().size(), build.shortDecode().launches()));
        lines.add(String.format(Locale.ROOT, "prefill program: %d kernels, %d launches per step of up to %d tokens",
                prefill.kernels().size(), prefill.launches(), prefill.maxSeq()));
        return lines;
    }

    /** The files a compile writes into --emit DIR (and only these are removed when DIR holds an earlier compile's). */
    static final List<String> OUTPUT_FILES = List.of("memory.txt", "index.tsv", "knobs.txt", "summary.txt");

    /**
     * Makes --emit DIR ready before any work: created if absent; an earlier compile's output there is
     * removed first (else its kernels would stay among the new ones); a folder holding anything else is
     * refused, so nothing of the user's is mixed with or overwritten by the output.
     */
    private void prepareEmitFolder() throws IOException {
        if (Files.exists(emit) && !Files.isDirectory(emit))
            throw new ParameterException(spec.commandLine(), "--emit " + emit + ": is a file; expected a folder (new, empty, or an earlier compile's output)");
        try {
            Files.createDirectories(emit);
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "--emit " + emit + ": cannot create the folder: " + Errors.reason(e));
        }
        if (!Files.isWritable(emit)) throw new ParameterException(spec.commandLine(), "--emit " + emit + ": the folder is not writable");
        List<Path> entries;
        try (var s = Files.list(emit)) {
            entries = s.toList();
        }
        if (entries.isEmpty()) return;
        boolean earlier = Files.isRegularFile(emit.resolve("index.tsv")) && Files.isRegularFile(emit.resolve("summary.txt"));
        List<String> foreign = entries.stream().map(p -> p.getFileName().toString())
                .filter(n -> !OUTPUT_FILES.contains(n) && !n.equals("ir") && !n.equals("kernels")).sorted().toList();
        if (!earlier || !foreign.isEmpty())
            throw new ParameterException(spec.commandLine(), "--emit " + emit + ": the folder is not empty and holds no earlier compile's output only"
                    + (foreign.isEmpty() ? " (no index.tsv and summary.txt)" : " (also " + String.join(", ", foreign.subList(0, Math.min(3, foreign.size())))
                    + (foreign.size() > 3 ? " ..." : "") + ")") + "; choose a new or empty folder");
        int removed = 0;
        for (String sub : List.of("ir", "kernels"))
            if (Files.isDirectory(emit.resolve(sub)))
                try (var s = Files.list(emit.resolve(sub))) {
                    for (Path p : s.filter(p -> p.getFileName().toString().matches(".*\\.(txt|cu|hip)")).toList()) {
                        Files.delete(p);
                        removed++;
                    }
                }
        for (String f : OUTPUT_FILES) if (Files.deleteIfExists(emit.resolve(f))) removed++;
        ctx.note("--emit " + emit + ": replacing an earlier compile's output (" + removed + " files removed)");
    }

    /** Writes the IR dumps, memory plan, kernels, index and summary; returns the line saying so. */
    private String write(Path dir, CompiledModel m, Build build, List<String> summary, ProgressBar bar) throws IOException {
        Path ir = Files.createDirectories(dir.resolve("ir"));
        Path kernels = Files.createDirectories(dir.resolve("kernels"));
        var phases = m.pipeline().phases();
        for (int i = 0; i < phases.size(); i++) {
            String name = String.format(Locale.ROOT, "%02d-%s.txt", i, phases.get(i).name().replaceAll("[^A-Za-z0-9_.-]+", "-").replaceAll("-$", ""));
            Files.writeString(ir.resolve(name), GraphPrinter.print(phases.get(i).graph()));
        }
        Files.writeString(dir.resolve("memory.txt"), memory(m.pipeline().memory()));

        // one file a kernel: the decode and prefill programs share the kernels they both launch
        String ext = build.codegen().fileExtension();
        int done = 0;
        Map<String, Path> files = new LinkedHashMap<>();
        for (var e : build.sources().entrySet()) {
            files.put(e.getKey(), Files.writeString(kernels.resolve(e.getKey() + "." + ext), e.getValue()));
            bar.update("writing kernels", ++done, build.sources().size());
        }
        String objects = noCodeObjects ? ""
                : build.target().platform() == Platform.ROCM ? codeObjects(build, files, kernels, bar)
                : build.target().platform() == Platform.VULKAN ? spirv(kernels, build, bar) : "";
        Files.writeString(dir.resolve("index.tsv"), index(build, ext));
        Files.writeString(dir.resolve("knobs.txt"), knobs(build));
        String line = String.format(Locale.ROOT, "wrote %s: ir/ (%d phases), memory.txt, kernels/ (%d %s files%s), index.tsv, knobs.txt, summary.txt",
                dir, phases.size(), build.sources().size(), build.codegen().language(), objects);
        List<String> text = new ArrayList<>(summary);
        text.add(line);
        Files.writeString(dir.resolve("summary.txt"), String.join("\n", text) + "\n");
        bar.finish("kernels written");
        return line;
    }

    /** Each kernel's AMDGPU code object beside its source; what was made, for the summary line. */
    private String codeObjects(Build build, Map<String, Path> files, Path kernels, ProgressBar bar) {
        List<String> why = new ArrayList<>();
        var result = jmlc.engine.runtime.rocm.CodeObjects.compile(build.target().arch(), files, kernels, System.getenv(), why,
                n -> bar.update("compiling code objects for " + build.target(), n, files.size()));
        if (result.isEmpty()) {
            ctx.note("no .hsaco written: no compiler here takes " + build.target().arch() + ": " + String.join("; ", why));
            return "; no .hsaco: no compiler for " + build.target().arch();
        }
        var r = result.get();
        if (!r.failures().isEmpty())
            throw new IllegalStateException(r.failures().size() + " of " + files.size() + " kernels did not compile with " + r.compiler() + ":\n"
                    + String.join("\n", r.failures().stream().limit(3).toList()));
        return " and " + r.compiled() + " .hsaco code objects by " + r.compiler();
    }

    /**
     * Each GLSL kernel's SPIR-V beside it, compiled by the runtime's own shaderc (its disk cache too),
     * where shaderc's natives load; what the summary line says about it.
     */
    private static String spirv(Path kernels, Build build, ProgressBar bar) throws IOException {
        String why = ShaderCompiler.unavailable();
        if (!why.isEmpty()) return "; no SPIR-V: " + why;
        int done = 0;
        try (ShaderCompiler sc = new ShaderCompiler()) {
            for (var e : build.sources().entrySet()) {
                Files.write(kernels.resolve(e.getKey() + ".spv"), sc.compile(e.getKey(), e.getValue()));
                bar.update("compiling GLSL to SPIR-V", ++done, build.sources().size());
            }
        }
        return " and their SPIR-V (.spv, shaderc for Vulkan 1.2)";
    }

    private static String memory(MemoryPlan p) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%d intermediate values in %d buffers: %d bytes (%s); %d bytes (%s) if each had its own%n",
                p.slotOf().size(), p.slotBytes().size(), p.totalBytes(), ProgressBar.bytes(p.totalBytes()), p.naiveBytes(), ProgressBar.bytes(p.naiveBytes())));
        int[] users = new int[p.slotBytes().size()];
        p.slotOf().values().forEach(s -> users[s]++);
        sb.append("buffer\tbytes\tvalues\n");
        for (int s = 0; s < users.length; s++) sb.append(s).append('\t').append(p.slotBytes().get(s)).append('\t').append(users[s]).append('\n');
        return sb.toString();
    }

    /**
     * Every knob space of both programs: the signature (what a tuning database entry names), then per knob
     * the value chosen, the default, the allowed values and the candidates a search tries.
     */
    private static String knobs(Build build) {
        StringBuilder sb = new StringBuilder("# the tuning database's entries (\"kernels\": {\"<signature>\": {\"knobs\": {...}}}, written by 'jmlc tune') set these\n");
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Program p : List.of(build.decode(), build.prefill()))
            for (var t : p.tunables()) {
                if (!seen.add(t.space().signature().toString())) continue;
                sb.append(t.space().signature()).append('\n');
                knobLines(sb, t.space(), t.chosen());
            }
        // the build's own: where the short-context decode program hands over to the decode program
        jmlc.compiler.build.ShortContextDecode.space(build.target(), build.decode().graph()).ifPresent(space -> {
            sb.append(space.signature()).append('\n');
            knobLines(sb, space, Map.of("positions", build.shortContext()));
        });
        // and how many decode launches one persistent kernel runs (targets with grid barriers)
        if (build.target().caps().gridBarrier()) {
            var space = jmlc.compiler.build.PersistentDecode.space(build.target());
            sb.append(space.signature()).append('\n');
            knobLines(sb, space, Map.of("kernels", build.persistent()));
        }
        // and the MiB of weights the decode attention asks of the L2 (targets with bulk L2 prefetches)
        if (build.target().caps().bulk()) {
            var space = jmlc.compiler.build.WeightPrefetch.space(build.target());
            sb.append(space.signature()).append('\n');
            knobLines(sb, space, Map.of("mib", build.prefetchMib()));
        }
        return sb.toString();
    }

    private static void knobLines(StringBuilder sb, jmlc.compiler.schedule.KnobSpace space, Map<String, Integer> chosen) {
        for (var k : space.knobs())
            sb.append(String.format(Locale.ROOT, "  %-14s = %-6d default %-6d allowed %-22s tried %s  (%s)%n", k.name(), chosen.get(k.name()),
                    k.defaultValue(), k.describeAllowed(), k.candidates(), k.doc()));
    }

    /** One row per kernel: name, the rule that made it, its launches per decode step and per prefill step, file, summary. */
    private static String index(Build build, String ext) {
        Map<String, String> rule = new LinkedHashMap<>();
        Map<String, int[]> launches = new LinkedHashMap<>();
        List<Program> programs = build.programs();
        for (int i = 0; i < programs.size(); i++) {
            for (Program.Step s : programs.get(i).steps())
                for (KernelCall c : s.calls()) rule.putIfAbsent(c.kernel().name(), s.rule());
            // what a step launches: fused persistent kernels instead of their members where the build fuses
            for (KernelCall c : programs.get(i).launched()) {
                String rewrite = jmlc.compiler.build.Build.rewriteOf(c.kernel());
                if (rewrite != null) rule.putIfAbsent(c.kernel().name(), rewrite);
                launches.computeIfAbsent(c.kernel().name(), k -> new int[3])[i]++;
            }
        }
        StringBuilder sb = new StringBuilder("kernel\trule\tdecode_launches\tprefill_launches\tshort_context_decode_launches\tfile\tsummary\n");
        for (Kernel k : build.kernels()) {
            int[] n = launches.getOrDefault(k.name(), new int[3]);
            sb.append(k.name()).append('\t').append(rule.getOrDefault(k.name(), "sampling")).append('\t').append(n[0]).append('\t').append(n[1]).append('\t').append(n[2]).append('\t')
                    .append("kernels/").append(k.name()).append('.').append(ext).append('\t').append(k.summary().replace('\t', ' ')).append('\n');
        }
        return sb.toString();
    }
}
