package jmlc.engine.format;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Paths users name (a model directory, a .gguf file, a tokenizer), with an error that says why one cannot be used. */
public final class ModelPaths {
    private ModelPaths() {}

    /**
     * {@code Path.of(spec)}, or an IllegalArgumentException naming the path and the cause: Java
     * encodes file names in the locale's charset ({@code sun.jnu.encoding}), and under LANG=C that
     * is ASCII, which cannot hold a name such as 模型 (arguments given in UTF-8 arrive as U+FFFD).
     */
    public static Path of(String spec) {
        try {
            return Path.of(spec);
        } catch (InvalidPathException e) {
            String charset = System.getProperty("sun.jnu.encoding", "");
            String why = charset.equalsIgnoreCase("UTF-8") ? "" : "; Java encodes file names in " + charset
                    + " here (from the locale), which cannot hold its characters: run with a UTF-8 locale, e.g. LC_ALL=C.UTF-8";
            throw new IllegalArgumentException("cannot use the path '" + spec + "': " + e.getReason() + why, e);
        }
    }
}
