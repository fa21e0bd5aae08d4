package jmlc.engine.format.hf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jmlc.engine.format.tensor.FloatTensor;
import jmlc.engine.format.tensor.FloatWeights;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.safetensors.SafetensorsWriter;

/**
 * Writes a model as a Hugging Face directory: config.json plus model.safetensors, or
 * {@code shards} files with model.safetensors.index.json. No tokenizer files: callers that need
 * one write tokenizer.json next to them.
 */
public final class HfModelWriter {
    /** The weights file of an unsharded model. */
    public static final String SINGLE_FILE = "model.safetensors";
    private HfModelWriter() {}

    /** Writes into {@code dir} (created if missing), every tensor as {@code dtype} (F32, F16 or BF16). */
    public static void write(Path dir, FloatWeights w, TensorDType dtype, int shards) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(HfConfig.FILE), HfConfig.toJson(w.config()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(HfConfig.FILE), e);
        }
        List<FloatTensor> tensors = List.copyOf(w.tensors().values());
        if (shards == 1) {
            SafetensorsWriter sw = new SafetensorsWriter().metadata("format", "pt");
            for (FloatTensor t : tensors) sw.add(t, dtype);
            sw.write(dir.resolve(HfModelWriter.SINGLE_FILE));
        } else {
            SafetensorsWriter.writeSharded(dir, tensors, dtype, shards);
        }
    }
}
