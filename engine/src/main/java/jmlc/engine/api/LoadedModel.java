package jmlc.engine.api;

import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import jmlc.engine.chat.ChatTemplate;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.runtime.ModelRunner;
import jmlc.engine.tokenizer.Tokenizer;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;

/**
 * Everything a loaded model is made of: where it came from, its config and quantization, its
 * tokenizer and chat template, the compiled graph, the weights and the runner on a device.
 *
 * @param spec           what the user named ({@code synthetic:llama-2-7b}, a directory, a .gguf)
 * @param checkpoint     the open file(s), or null for synthetic models
 * @param templateReason why this chat template was chosen
 */
public record LoadedModel(String spec, Checkpoint checkpoint, ModelConfig config, QuantMode quant, Tokenizer tokenizer,
                          ChatTemplate template, String templateReason, CompiledModel compiled, ModelWeights weights,
                          ModelRunner runner) implements AutoCloseable {

    @Override
    public void close() {
        runner.close();
        weights.close();
        if (checkpoint != null) checkpoint.close();
    }
}
