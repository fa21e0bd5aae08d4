package jmlc.engine.tokenizer;

/**
 * A tokenizer file that cannot be used: names the file, the key (a JSON path such as
 * {@code model.type} or a GGUF key), what was expected and what was found.
 */
public final class TokenizerException extends IllegalArgumentException {

    private final String file;
    private final String key;

    public TokenizerException(String file, String key, String expected, String found) {
        this(file, key, expected, found, null);
    }

    public TokenizerException(String file, String key, String expected, String found, Throwable cause) {
        super(file + ": " + key + ": expected " + expected + ", found " + found, cause);
        this.file = file;
        this.key = key;
    }

    /** The file (or GGUF file) that was being read. */
    public String file() {
        return file;
    }

    /** The key inside it: a JSON path ({@code pre_tokenizer.pretokenizers[0].type}) or a GGUF metadata key. */
    public String key() {
        return key;
    }
}
