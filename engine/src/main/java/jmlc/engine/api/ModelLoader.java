package jmlc.engine.api;

import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import jmlc.engine.chat.ChatTemplate;
import jmlc.engine.chat.ChatTemplates;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.Checkpoints;
import jmlc.engine.format.GgufCheckpoint;
import jmlc.engine.format.HfCheckpoint;
import jmlc.engine.format.ModelPaths;
import jmlc.engine.format.tensor.FileMapping;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorView;
import jmlc.engine.api.Backends;
import jmlc.engine.runtime.ModelRunner;
import jmlc.engine.tokenizer.SyntheticTokenizer;
import jmlc.engine.tokenizer.Tokenizer;
import jmlc.engine.tokenizer.Tokenizers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import jmlc.engine.model.CheckpointWeights;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.MemoryCheck;
import jmlc.engine.model.Progress;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.SyntheticModels;
import jmlc.engine.model.SyntheticWeights;

/**
 * Loads a model a user names: {@code synthetic:NAME}, a Hugging Face directory, or a .gguf file.
 * Reads the config, opens the tensors (memory-mapped), builds the tokenizer and picks the chat
 * template, compiles the graph for the quantization, prepares the weights and loads them onto
 * the device. Every failure names the file, key or option at fault.
 */
public final class ModelLoader {
    private ModelLoader() {}

    public static final int DEFAULT_MAX_CONTEXT = 4096;
    public static final int MAX_STEP_TOKENS = 512;

    public static LoadedModel load(String spec, LoadOptions opts, Progress progress) {
        Backends.Resolved dev = Backends.resolve(opts.device());
        dev.backend().checkUsable(dev.device());
        if (SyntheticModels.isSynthetic(spec)) return synthetic(spec, opts, dev, progress);
        Path path = ModelPaths.of(spec);
        if (!Files.exists(path))
            throw new IllegalArgumentException("model '" + spec + "' not found: expected a model directory, a .gguf file, or synthetic:NAME (" + String.join(", ", SyntheticModels.catalog().keySet()) + ")");
        progress.update("opening " + path.getFileName(), 0, 1);
        Checkpoint ckpt = Checkpoints.open(path);
        try {
            if (ckpt instanceof GgufCheckpoint g && g.metadata().get("tokenizer.ggml.tokens") instanceof java.util.List<?> tokens
                    && tokens.size() > ckpt.config().vocabSize()) // before a table of all of them is built
                throw new ModelFormatException(ckpt.path(), "tokenizer.ggml.tokens holds " + tokens.size() + " tokens but the model's vocabulary is " + ckpt.config().vocabSize());
            Tokenizer tok = switch (ckpt) {
                case HfCheckpoint hf -> Tokenizers.load(hf.directory());
                case GgufCheckpoint g -> Tokenizers.fromGguf(g.metadata(), g.path().toString());
            };
            checkVocabulary(ckpt.path(), tok, ckpt.config()); // before anything is compiled or prepared
            QuantMode quant = opts.quant() != null ? opts.quant() : naturalQuant(ckpt);
            CompiledModel compiled = compile(ckpt.config(), quant, opts, progress);
            checkHostMemory(spec, compiled, CheckpointWeights.packedBytes(ckpt, compiled.graph()), dev);
            CheckpointWeights weights = new CheckpointWeights(ckpt, compiled.graph()).loadAll(progress);
            return finish(spec, ckpt, ckpt.config(), quant, tok, opts, compiled, weights, dev, progress);
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        } catch (InternalError e) { // a read of the mapped file faulted: it was cut short while loading
            ckpt.close();
            throw FileMapping.changed(ckpt.path(), e);
        }
    }

    private static LoadedModel synthetic(String spec, LoadOptions opts, Backends.Resolved dev, Progress progress) {
        ModelConfig config = SyntheticModels.require(spec);
        QuantMode quant = opts.quant() != null ? opts.quant() : QuantMode.Q4F16_1;
        CompiledModel compiled = compile(config, quant, opts, progress);
        // GPU backends make synthetic weights on the device; the CPU needs them in host memory
        boolean onHost = dev.device().backend().equals("cpu");
        checkHostMemory(spec, compiled, onHost ? ModelWeights.bytesOf(compiled.graph()) : 0, dev);
        SyntheticWeights weights = new SyntheticWeights(compiled.graph(), 42, progress);
        if (onHost) weights.makeAll();
        return finish(spec, null, config, quant, new SyntheticTokenizer(config.vocabSize()), opts, compiled, weights, dev, progress);
    }

    private static CompiledModel compile(ModelConfig config, QuantMode quant, LoadOptions opts, Progress progress) {
        progress.update("compiling graph (" + quant + ")", 0, 1);
        int ctx = opts.maxContext() > 0 ? opts.maxContext() : Math.min(config.maxPositions(), DEFAULT_MAX_CONTEXT);
        if (ctx > config.maxPositions())
            throw new IllegalArgumentException("max context " + ctx + " exceeds the model's context window of " + config.maxPositions());
        CompiledModel c = CompiledModel.compile(config, quant, opts.kvCacheFor(quant), ctx, opts.allLogits(), opts.disabledPasses(), MAX_STEP_TOKENS);
        progress.update("compiling graph (" + quant + ")", 1, 1);
        return c;
    }

    private static LoadedModel finish(String spec, Checkpoint ckpt, ModelConfig config, QuantMode quant, Tokenizer tok, LoadOptions opts,
                                      CompiledModel compiled, ModelWeights weights, Backends.Resolved dev, Progress progress) {
        ChatTemplate template;
        String reason;
        if (opts.chatTemplate() != null) {
            template = ChatTemplates.byName(opts.chatTemplate());
            reason = "named by the user";
        } else if (tok instanceof SyntheticTokenizer) {
            template = ChatTemplates.byName("llama2");
            reason = "synthetic models have no template; llama2 chosen";
        } else {
            ChatTemplates.Detection d = ChatTemplates.detect(tok);
            template = d.template();
            reason = d.reason();
        }
        checkVocabulary(ckpt == null ? Path.of(spec) : ckpt.path(), tok, config);
        progress.update("loading onto " + dev.device().id(), 0, 1);
        ModelRunner runner = dev.backend().load(compiled, weights, dev.device(), opts.runtime().withEnvironment(System.getenv()), progress);
        progress.update("loading onto " + dev.device().id(), 1, 1);
        return new LoadedModel(spec, ckpt, config, quant, tok, template, reason, compiled, weights, runner);
    }

    /** Every id the tokenizer can produce must index the model's embedding table. */
    private static void checkVocabulary(Path model, Tokenizer tok, ModelConfig config) {
        if (tok.vocabSize() > config.vocabSize())
            throw new ModelFormatException(model, "the tokenizer has " + tok.vocabSize() + " ids but the model's vocabulary is " + config.vocabSize());
    }

    /**
     * Refuses a model the host has no room for: {@code weightBytes} of weights made or converted in
     * host memory, and on the CPU its KV cache and activations too (a GPU's own memory is checked by its runner).
     */
    private static void checkHostMemory(String spec, CompiledModel compiled, long weightBytes, Backends.Resolved dev) {
        if (!MemoryCheck.enabled()) return;
        Optional<MemoryCheck.Available> free = MemoryCheck.host();
        if (free.isEmpty()) return;
        boolean cpu = dev.device().backend().equals("cpu");
        MemoryCheck.Need need = cpu ? MemoryCheck.need(compiled, weightBytes) : new MemoryCheck.Need(weightBytes, 0, 0);
        MemoryCheck.require(spec + " (" + compiled.quant() + ")", "the host" + (cpu ? "" : " (its weights before they go to " + dev.device().id() + ")"),
                need, free.get(), MemoryCheck.advice(compiled));
    }

    /** The quantization a checkpoint's matmul weights are stored in (GGUF), or q4f16_1. */
    public static QuantMode naturalQuant(Checkpoint ckpt) {
        if (!(ckpt instanceof GgufCheckpoint)) return QuantMode.Q4F16_1;
        TensorView q = ckpt.tensors().get("model.layers.0.self_attn.q_proj.weight");
        TensorDType d = q == null ? TensorDType.F16 : q.dtype();
        return switch (d) {
            case Q4_0 -> QuantMode.Q4_0;
            case Q8_0 -> QuantMode.Q8F16;
            case F16, BF16 -> QuantMode.Q0F16;
            case F32 -> QuantMode.Q0F32;
        };
    }
}
