package jmlc.engine.format;

import java.nio.file.Path;
import java.util.Map;
import jmlc.compiler.model.ModelConfig;

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

    /**
     * Checks that every tensor the model needs is present with the shape its config implies
     * ({@link ExpectedTensors}); returns this checkpoint.
     */
    default Checkpoint validate() {
        ExpectedTensors.check(this, config());
        return this;
    }

    @Override
    void close();
}
