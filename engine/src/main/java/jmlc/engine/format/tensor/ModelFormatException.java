package jmlc.engine.format.tensor;

import java.nio.file.Path;

/**
 * A model file that cannot be read as what it claims to be: truncated, inconsistent, of an
 * unsupported kind, or not matching its config. The message names the file, the tensor or key,
 * what was expected and what was found, so a user can act on it without a stack trace.
 */
public class ModelFormatException extends RuntimeException {
    private final Path file;

    public ModelFormatException(Path file, String message) {
        super(file + ": " + message);
        this.file = file;
    }

    public ModelFormatException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    /** The file (or model directory) at fault. */
    public Path file() {
        return file;
    }
}
