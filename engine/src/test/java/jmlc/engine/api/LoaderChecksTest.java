package jmlc.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.model.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checks the loader and ChatModule make before they spend time or index arrays with what a file says (issue 14). */
class LoaderChecksTest {
    @TempDir
    Path dir;

    private static final LoadOptions CPU = LoadOptions.defaults().device("cpu").chatTemplate("llama2");

    @Test
    void aTokenizerLargerThanTheModelIsRefusedBeforeCompiling() throws IOException {
        HostileModelDirs.withSilentTokenizer(dir, 44);
        List<String> stages = new ArrayList<>();
        Progress record = (stage, done, total) -> { if (!stages.contains(stage)) stages.add(stage); };
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(dir.toString(), CPU, record).close());
        assertTrue(e.getMessage().contains("the tokenizer has 300 ids but the model's vocabulary is 256"), e.getMessage());
        assertEquals(List.of("opening " + dir.getFileName()), stages, "nothing is compiled or prepared first");
    }

    @Test
    void aPromptOfNoTokensIsAClearError() throws IOException {
        HostileModelDirs.withSilentTokenizer(dir, 0);
        try (ChatModule cm = ChatModule.load(dir.toString(), CPU)) {
            // was ArrayIndexOutOfBoundsException in ChatModule.chat, shown as an internal error
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cm.chat("hello"));
            assertTrue(e.getMessage().contains("no tokens"), e.getMessage());
            assertTrue(cm.conversation().isEmpty(), "the failed turn leaves no trace");
        }
    }

    @Test
    void aGgufVocabularyLargerThanTheModelIsRefusedBeforeItIsBuilt() {
        // a million tokens for a model of 256: refused from the array's length, before a table of a million strings is made
        Path f = dir.resolve("m.gguf");
        var tokens = java.util.Collections.nCopies(1_000_000, "t");
        jmlc.engine.format.gguf.GgufModelWriter.write(f, jmlc.engine.format.TinyModels.random(jmlc.engine.format.TinyModels.config(jmlc.compiler.model.Architecture.LLAMA), 1),
                new jmlc.engine.format.gguf.GgufModelWriter.Options(jmlc.engine.format.tensor.TensorDType.F16, 3, java.util.Map.of(
                        "tokenizer.ggml.model", new jmlc.engine.format.gguf.GgufWriter.Typed(jmlc.engine.format.gguf.GgufValueType.STRING, "llama"),
                        "tokenizer.ggml.tokens", new jmlc.engine.format.gguf.GgufWriter.Typed(jmlc.engine.format.gguf.GgufValueType.ARRAY,
                                new jmlc.engine.format.gguf.GgufWriter.Array(jmlc.engine.format.gguf.GgufValueType.STRING, tokens)))));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(f.toString(), CPU, Progress.NONE).close());
        assertTrue(e.getMessage().contains("tokenizer.ggml.tokens holds 1000000 tokens but the model's vocabulary is 256"), e.getMessage());
    }
}
