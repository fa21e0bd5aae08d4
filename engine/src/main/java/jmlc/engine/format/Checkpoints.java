package jmlc.engine.format;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.Path;
import jmlc.engine.format.tensor.FileMapping;
import jmlc.engine.format.tensor.ModelFormatException;

/** Opens a model whatever its format, and checks it is complete. */
public final class Checkpoints {
    private Checkpoints() {}

    /**
     * Opens {@code path}: a Hugging Face directory (config.json + safetensors; a config.json or
     * .safetensors file inside one stands for its directory) or a GGUF file; then checks every
     * tensor the model needs is present with the right shape ({@link Checkpoint#validate()}).
     * All failures are {@link ModelFormatException}s naming the file.
     */
    public static Checkpoint open(Path path) {
        Checkpoint c = openUnchecked(path);
        try {
            return c.validate();
        } catch (RuntimeException e) {
            c.close();
            throw e;
        } catch (InternalError e) {
            c.close();
            throw FileMapping.changed(path, e);
        }
    }

    /** {@link #open} without the tensor check. */
    public static Checkpoint openUnchecked(Path path) {
        if (!Files.exists(path)) throw new ModelFormatException(path, "no such file or directory (expected a model directory or a .gguf file)");
        if (Files.isDirectory(path)) return HfCheckpoint.open(path);
        FileMapping.requireRegularFile(path, "a model directory or a .gguf file");
        String name = path.getFileName().toString();
        if (isGguf(path)) return openGguf(path);
        if ((name.equals(HfCheckpoint.CONFIG) || name.endsWith(".safetensors")) && path.toAbsolutePath().getParent() != null)
            return HfCheckpoint.open(path.toAbsolutePath().getParent());
        if (name.endsWith(".gguf")) return openGguf(path); // reports what is wrong with the header
        throw new ModelFormatException(path, "not a model: expected a directory with config.json and *.safetensors, or a .gguf file");
    }

    /** The header is read from the mapping: a file cut short meanwhile faults there. */
    private static GgufCheckpoint openGguf(Path file) {
        try {
            return GgufCheckpoint.open(file);
        } catch (InternalError e) {
            throw FileMapping.changed(file, e);
        }
    }

    private static boolean isGguf(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' && magic[3] == 'F';
        } catch (ClosedByInterruptException e) {
            throw FileMapping.interrupted(file, e);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage(), e);
        }
    }
}
