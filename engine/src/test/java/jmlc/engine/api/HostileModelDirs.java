package jmlc.engine.api;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jmlc.compiler.model.Architecture;
import jmlc.engine.format.TinyModels;
import jmlc.engine.format.hf.HfModelWriter;
import jmlc.engine.format.tensor.FloatWeights;
import jmlc.engine.format.tensor.TensorDType;

/** Tiny Hugging Face model directories (vocabulary 256) with hand-made tokenizers, for the loader's and ChatModule's failure paths. */
public final class HostileModelDirs {
    private HostileModelDirs() {}

    /**
     * The tiny Llama with a byte-level tokenizer whose 256 tokens are "&lt;tN&gt;" strings: no piece of
     * text is ever one of them and there is no unk token, so every text encodes to no tokens.
     * {@code extraAdded} added tokens follow at ids 256 ...
     */
    static Path withSilentTokenizer(Path dir, int extraAdded) throws IOException {
        return withSilentTokenizer(dir, extraAdded, TinyModels.random(TinyModels.config(Architecture.LLAMA), 3));
    }

    /** {@link #withSilentTokenizer(Path, int)} with these weights (F32 safetensors). */
    public static Path withSilentTokenizer(Path dir, int extraAdded, FloatWeights weights) throws IOException {
        HfModelWriter.write(dir, weights, TensorDType.F32, 1);
        StringBuilder vocab = new StringBuilder("{");
        for (int i = 0; i < 256; i++) vocab.append(i == 0 ? "" : ", ").append("\"<t").append(i).append(">\": ").append(i);
        vocab.append('}');
        StringBuilder added = new StringBuilder("[");
        for (int i = 0; i < extraAdded; i++)
            added.append(i == 0 ? "" : ", ").append("{\"id\": ").append(256 + i).append(", \"content\": \"<extra").append(i).append(">\", \"special\": true}");
        added.append(']');
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"version": "1.0", "added_tokens": %s, "normalizer": null,
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}, "post_processor": null,
                 "decoder": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": %s, "merges": []}}
                """.formatted(added, vocab));
        return dir;
    }
}
