package jmlc.engine.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** Where tokenizers come from: Hugging Face model directories and GGUF metadata. */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * Loads a Hugging Face tokenizer: {@code path} is a model directory holding tokenizer.json
     * (and optionally tokenizer_config.json and generation_config.json), or the tokenizer.json
     * file itself, whose siblings are read the same way.
     *
     * @throws TokenizerException naming the file and key when a file is missing or unusable
     */
    public static Tokenizer load(Path path) {
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        Path json = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(json)) {
            throw new TokenizerException(json.toString(), "(file)",
                    "a tokenizer.json (a model directory from Hugging Face holds one)",
                    Files.isDirectory(path) ? "no tokenizer.json in " + path : Files.exists(json) ? "not a regular file" : "no such file");
        }
        return HfTokenizerFiles.load(json, sibling(dir, "tokenizer_config.json"), sibling(dir, "generation_config.json"));
    }

    /**
     * Builds the tokenizer a GGUF file embeds, from its metadata ({@code tokenizer.ggml.*}: strings
     * as String, integers as Long, floats as Double, bools as Boolean, arrays as List).
     *
     * @param fileName named in errors
     * @throws TokenizerException naming the file and metadata key when the vocabulary is unusable
     */
    public static Tokenizer fromGguf(Map<String, Object> metadata, String fileName) {
        return GgufVocabulary.load(metadata, fileName);
    }

    private static Optional<Path> sibling(Path dir, String name) {
        Path p = dir.resolve(name);
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }
}
