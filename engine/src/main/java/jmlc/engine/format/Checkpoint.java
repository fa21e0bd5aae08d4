package jmlc.engine.format;

import java.nio.file.Path;
import java.util.Map;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorView;
import jmlc.engine.format.tensor.ExpectedTensors;

/**
 * An opened model: its config, its tensors under Hugging Face names, memory-mapped, and what its
 * tokenizer is made from. Two kinds, so code that needs the tokenizer switches over them:
 * <pre>
 * switch (checkpoint) {
 *     case HfCheckpoint hf -> ... hf.directory() (tokenizer.json, tokenizer_config.json)
 *     case GgufCheckpoint g -> ... g.metadata() (tokenizer.ggml.*)
 * }
 * </pre>
 * Closing unmaps the files: tensor views must not be used afterwards.
 */
public sealed interface Checkpoint extends AutoCloseable permits HfCheckpoint, GgufCheckpoint {

    /** The model directory or .gguf file. */
    Path path();

    ModelConfig config();

    /** Every tensor, by Hugging Face name (those with no Hugging Face counterpart keep their file's name). */
    Map<String, TensorView> tensors();

    /** The name {@code hfName} has in the file, for messages (a GGUF name for GGUF files). */
    default String fileName(String hfName) {
        return hfName;
    }

    /** The tensor named {@code hfName}; a clear error naming the file and the tensor if it is absent. */
    default TensorView tensor(String hfName) {
        TensorView t = tensors().get(hfName);
        if (t == null) {
            String alias = fileName(hfName).equals(hfName) ? "" : " (named " + fileName(hfName) + " in this file)";
            throw new ModelFormatException(path(), "no tensor " + hfName + alias);
        }
        return t;
    }

    /** Where the config's layer count comes from, for messages: {@code config.json num_hidden_layers}, {@code llama.block_count}. */
    String layerCountKey();

    /**
     * Checks that the config's layer count matches the layers the file holds tensors for, then that
     * every tensor the model needs is present with the shape its config implies
     * ({@link ExpectedTensors}); returns this checkpoint.
     */
    default Checkpoint validate() {
        LayerCount.check(this, layerCountKey()); // first: the expected tensors are listed per claimed layer
        // extra tensors are allowed (old Llama checkpoints carry rotary_emb.inv_freq; tied models may still carry lm_head.weight)
        ModelConfig c = config();
        for (var e : ExpectedTensors.of(c).entrySet()) {
            String name = e.getKey();
            long[] want = e.getValue();
            TensorView t = tensors().get(name);
            String alias = fileName(name).equals(name) ? "" : " (" + fileName(name) + ")";
            if (t == null)
                throw new ModelFormatException(path(), "missing tensor " + name + alias + ": the model needs it with shape "
                        + TensorView.shapeString(want) + " (" + ExpectedTensors.summary(c) + ")");
            if (!java.util.Arrays.equals(t.shape(), want))
                throw new ModelFormatException(t.file(), "tensor " + name + alias + " has shape " + TensorView.shapeString(t.shape())
                        + ", expected " + TensorView.shapeString(want) + " from the config (" + ExpectedTensors.summary(c) + ")");
        }
        return this;
    }

    @Override
    void close();
}
