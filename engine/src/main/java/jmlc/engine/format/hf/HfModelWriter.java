package jmlc.engine.format.hf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jmlc.engine.format.FloatTensor;
import jmlc.engine.format.HfCheckpoint;
import jmlc.engine.format.FloatWeights;
import jmlc.engine.format.TensorDType;
import jmlc.engine.format.safetensors.SafetensorsWriter;

/**
 * Writes a model as a Hugging Face directory: config.json plus model.safetensors, or
 * {@code shards} files with model.safetensors.index.json. No tokenizer files: callers that need
 * one write tokenizer.json next to them.
 */
public final class HfModelWriter {
    private HfModelWriter() {}

    /** Writes into {@code dir} (created if missing), every tensor as {@code dtype} (F32, F16 or BF16). */
    public static void write(Path dir, FloatWeights w, TensorDType dtype, int shards) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(HfCheckpoint.CONFIG), HfConfig.toJson(w.config()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(HfCheckpoint.CONFIG), e);
        }
        List<FloatTensor> tensors = List.copyOf(w.tensors().values());
        if (shards == 1) {
            SafetensorsWriter sw = new SafetensorsWriter().metadata("format", "pt");
            for (FloatTensor t : tensors) sw.add(t, dtype);
            sw.write(dir.resolve(HfCheckpoint.SINGLE_FILE));
        } else {
            SafetensorsWriter.writeSharded(dir, tensors, dtype, shards);
        }
    }
}
