package jmlc.engine.cli;

import jmlc.compiler.pass.Pass;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.engine.api.ChatModule;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.api.LoadedModel;
import jmlc.engine.model.SyntheticModels;
import jmlc.engine.api.Backends;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The model a command runs and how to load it: MODEL, --quant, --device, --max-context,
 * --disable-pass. Checks what it can before loading, so a misspelt name is a usage error
 * (exit 2) that says what exists; what only reading the files can tell is a failure (exit 1).
 */
final class ModelOptions {

    @Parameters(index = "0", paramLabel = "MODEL",
            description = "A model directory (config.json, *.safetensors, tokenizer.json), a .gguf file, or synthetic:NAME "
                    + "(real shapes, random weights): synthetic:tiny, synthetic:tinyllama-1.1b, synthetic:llama-2-7b, synthetic:llama-2-13b, "
                    + "synthetic:llama-3-8b, synthetic:llama-3.1-8b, synthetic:llama-3-70b, synthetic:mistral-7b, synthetic:qwen2-0.5b.")
    String model;

    @Option(names = "--quant", paramLabel = "Q", converter = Converters.Quant.class,
            description = "Weight quantization: q4f16_1, q4f32_1, q8f16, q4_0, q0f16, q0f32 (default: q4f16_1; a .gguf file: as stored).")
    QuantMode quant;

    @Option(names = "--device", paramLabel = "D", defaultValue = "auto",
            description = "auto (the first device found), cpu, cpu:ref, cuda:0, rocm:0, vulkan:0 ... (see 'jmlc devices'). Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--max-context", paramLabel = "N", description = "KV cache length in positions (default: the model's window, at most 4096).")
    Integer maxContext;

    @Option(names = "--kv-cache", paramLabel = "T", converter = Converters.KvCache.class,
            description = "KV cache type: f16, f32, or i8 (bytes with a scale per 32 values: half the memory of f16, as llama.cpp's q8_0 cache). "
                    + "Default: f32 for q4f32_1 and q0f32, else f16.")
    jmlc.compiler.ir.DType kvCache;

    @Option(names = "--disable-pass", paramLabel = "NAME",
            description = "Switch a compiler pass off to see what it buys (repeatable): FuseParallelMatmuls, FuseDequantMatmul, "
                    + "FuseRopeKvAppend, FuseSiluMul, MoveLastRowBeforeNorm, FuseSiluMulEpilogue, FuseMatmulPrologue, "
                    + "FuseMatmulResidual, FuseAddRmsNorm, EliminateDeadCode, HalfMatmulInputs (f16 modes: o's and down's inputs stored as f16).")
    List<String> disabledPasses = new ArrayList<>();

    /** The load options, after checking the model, device and pass names exist. */
    LoadOptions loadOptions(CommandLine cmd) {
        checkModel(cmd, model);
        try {
            Backends.resolve(device);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cmd, "--device " + device + ": " + e.getMessage());
        }
        checkMaxContext(cmd, maxContext);
        checkPasses(cmd, disabledPasses, quant);
        return LoadOptions.defaults().device(device).quant(quant).maxContext(maxContext == null ? 0 : maxContext).disabledPasses(new HashSet<>(disabledPasses)).kvCache(kvCache);
    }

    /** --max-context, when given, is a positive number of positions (0 would mean no cache at all, not the default). */
    static void checkMaxContext(CommandLine cmd, Integer maxContext) {
        if (maxContext != null && maxContext <= 0)
            throw new ParameterException(cmd, "--max-context must be a positive number of positions, found " + maxContext + " (leave it out for the model's window, at most 4096)");
    }

    /** {@link #checkModel(String)}, failing as a usage error of {@code cmd}. */
    static void checkModel(CommandLine cmd, String model) {
        try {
            checkModel(model);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cmd, e.getMessage());
        }
    }

    /** MODEL names a synthetic model that exists, or a path that exists. */
    static void checkModel(String model) {
        if (SyntheticModels.isSynthetic(model)) {
            if (SyntheticModels.find(model).isEmpty())
                throw new IllegalArgumentException("unknown synthetic model '" + model + "': expected one of " + syntheticNames());
        } else if (!Files.exists(jmlc.engine.format.ModelPaths.of(model))) {
            throw new IllegalArgumentException("MODEL '" + model + "': no such file or directory (expected a model directory, a .gguf file, or synthetic:NAME)");
        }
    }

    static String syntheticNames() {
        return SyntheticModels.catalog().keySet().stream().map(k -> SyntheticModels.PREFIX + k).collect(Collectors.joining(", "));
    }

    static void checkPasses(CommandLine cmd, List<String> names, QuantMode quant) {
        if (names.isEmpty()) return;
        List<Pass> passes = Pipeline.standard(quant == null ? QuantMode.Q4F16_1 : quant);
        for (String n : names) {
            String lower = n.toLowerCase(Locale.ROOT);
            if (passes.stream().noneMatch(p -> p.name().toLowerCase(Locale.ROOT).equals(lower) || p.name().toLowerCase(Locale.ROOT).startsWith(lower + "(")))
                throw new ParameterException(cmd, "--disable-pass " + n + ": no such pass; passes are "
                        + passes.stream().map(p -> p.name().replaceFirst("\\(.*", "")).collect(Collectors.joining(", ")));
        }
    }

    /** Loads with a progress bar on stderr, then notes what was loaded. */
    static ChatModule load(CliContext ctx, String model, LoadOptions opts) {
        ProgressBar bar = new ProgressBar(ctx);
        long t0 = System.nanoTime();
        ChatModule cm = ChatModule.load(model, opts, bar);
        bar.finish(describe(cm.model(), System.nanoTime() - t0));
        return cm;
    }

    /** One line: what the model is, how it is stored, where it runs. */
    static String describe(LoadedModel m, long nanos) {
        var c = m.config();
        return String.format(Locale.ROOT, "loaded %s: %s, %d layers, hidden %d, vocab %d; %s, %s of weights; on %s; context %d; in %.1f s",
                m.spec(), c.architecture().name().toLowerCase(Locale.ROOT), c.numLayers(), c.hiddenSize(), c.vocabSize(),
                m.quant(), ProgressBar.bytes(m.runner().weightBytes()), m.runner().device(), m.runner().maxContext(), nanos / 1e9);
    }
}
