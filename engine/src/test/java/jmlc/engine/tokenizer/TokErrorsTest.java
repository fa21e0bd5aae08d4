package jmlc.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unusable tokenizer files give one TokenizerException naming the file, key, expected and found. */
class TokErrorsTest {

    @TempDir
    Path dir;

    /** A minimal valid byte-level tokenizer.json, with {@code patch} replacing one part. */
    private Path write(String modelType, String preTokenizer, String merges) throws IOException {
        String json = """
                {"version": "1.0", "added_tokens": [], "normalizer": null,
                 "pre_tokenizer": %s, "post_processor": null, "decoder": {"type": "ByteLevel"},
                 "model": {"type": "%s", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": %s}}
                """.formatted(preTokenizer, modelType, merges);
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, json);
        return file;
    }

    private static final String BYTE_LEVEL = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": false}";

    @Test
    void validMinimalFileLoads() throws IOException {
        Tokenizer tok = Tokenizers.load(write("BPE", BYTE_LEVEL, "[\"a b\"]"));
        assertEquals(List.of(2, 0), java.util.Arrays.stream(tok.encode("aba", false)).boxed().toList());
    }

    @Test
    void missingTokenizerJson() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("tokenizer.json").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("no tokenizer.json in"), e.getMessage());
    }

    @Test
    void malformedJson() throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, "{\"model\": {\"type\": \"BPE\",,}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(file));
        assertEquals(file.toString(), e.file());
        assertTrue(e.getMessage().contains("expected valid JSON") && e.getMessage().contains("line 1"), e.getMessage());
    }

    @Test
    void unknownModelType() throws IOException {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(write("Unigram", BYTE_LEVEL, "[]")));
        assertEquals("model.type", e.key());
        assertTrue(e.getMessage().contains("found \"Unigram\""), e.getMessage());
    }

    @Test
    void unknownPreTokenizer() throws IOException {
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> Tokenizers.load(write("BPE", "{\"type\": \"Sequence\", \"pretokenizers\": [" + BYTE_LEVEL + ", {\"type\": \"Whitespace\"}]}", "[]")));
        assertEquals("pre_tokenizer.pretokenizers[1].type", e.key());
        assertTrue(e.getMessage().contains("found \"Whitespace\""), e.getMessage());
    }

    @Test
    void badRegex() throws IOException {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(write("BPE",
                "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(unclosed\"}, \"behavior\": \"Isolated\", \"invert\": false}", "[]")));
        assertEquals("pre_tokenizer.pattern.Regex", e.key());
    }

    @Test
    void mergeOfUnknownToken() throws IOException {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(write("BPE", BYTE_LEVEL, "[\"a c\"]")));
        assertEquals("model.merges[0]", e.key());
        assertTrue(e.getMessage().contains("\"c\", which is not in model.vocab"), e.getMessage());
    }

    @Test
    void badConfigToken() throws IOException {
        write("BPE", BYTE_LEVEL, "[]");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\"}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(dir));
        assertTrue(e.file().endsWith("tokenizer_config.json"), e.file());
        assertEquals("bos_token", e.key());
    }

    @Test
    void ggufUnknownModel() {
        Map<String, Object> meta = new HashMap<>(Map.of("tokenizer.ggml.model", "t5", "tokenizer.ggml.tokens", List.of("a")));
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(meta, "model.gguf"));
        assertEquals("model.gguf: tokenizer.ggml.model: expected \"llama\" (SentencePiece) or \"gpt2\" (byte-level BPE), found \"t5\"", e.getMessage());
    }

    @Test
    void ggufUnknownPreTokenizer() {
        Map<String, Object> meta = new HashMap<>(Map.of("tokenizer.ggml.model", "gpt2", "tokenizer.ggml.pre", "mystery",
                "tokenizer.ggml.tokens", List.of("a"), "tokenizer.ggml.merges", List.of()));
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(meta, "model.gguf"));
        assertEquals("tokenizer.ggml.pre", e.key());
        assertTrue(e.getMessage().contains("llama-bpe") && e.getMessage().contains("found \"mystery\""), e.getMessage());
    }

    @Test
    void ggufWrongTypesAndSizes() {
        Map<String, Object> meta = new HashMap<>(Map.of("tokenizer.ggml.model", "llama", "tokenizer.ggml.tokens", List.of("a", "b"),
                "tokenizer.ggml.scores", List.of(0.0), "tokenizer.ggml.add_bos_token", false));
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(meta, "m.gguf"));
        assertEquals("m.gguf: tokenizer.ggml.scores: expected 2 entries (one per token of tokenizer.ggml.tokens), found 1 entries", e.getMessage());
        meta.put("tokenizer.ggml.tokens", "a b");
        e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(meta, "m.gguf"));
        assertEquals("tokenizer.ggml.tokens", e.key());
        assertTrue(e.getMessage().contains("expected a list of strings, found String a b"), e.getMessage());
        meta.remove("tokenizer.ggml.tokens");
        e = assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(meta, "m.gguf"));
        assertTrue(e.getMessage().endsWith("tokenizer.ggml.tokens: expected a value, found nothing (key absent)"), e.getMessage());
    }

    // ---- issue 14: nothing may follow the JSON object of a tokenizer file ----

    @Test
    void trailingGarbageInTokenizerJson() throws IOException {
        Path file = write("BPE", BYTE_LEVEL, "[\"a b\"]");
        Files.writeString(file, Files.readString(file) + " {\"model\": 1}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(file));
        assertEquals(file.toString(), e.file());
        assertTrue(e.getMessage().contains("valid JSON") && e.getMessage().contains("after the top-level object"), e.getMessage());
    }

    @Test
    void trailingGarbageInTokenizerConfig() throws IOException {
        write("BPE", BYTE_LEVEL, "[\"a b\"]");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\": false} true");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(dir));
        assertTrue(e.file().endsWith("tokenizer_config.json"), e.file());
        assertTrue(e.getMessage().contains("valid JSON"), e.getMessage());
    }

    // ---- issue 14: ids are bounded by the number of entries before anything is allocated for them ----

    private Path withVocab(String vocab, String addedTokens, String postProcessor) throws IOException {
        String json = """
                {"version": "1.0", "added_tokens": %s, "normalizer": null,
                 "pre_tokenizer": %s, "post_processor": %s, "decoder": {"type": "ByteLevel"},
                 "model": {"type": "BPE", "vocab": %s, "merges": []}}
                """.formatted(addedTokens, BYTE_LEVEL, postProcessor, vocab);
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, json);
        return file;
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {Integer.MAX_VALUE, Integer.MAX_VALUE - 1, 1_000_000_000, 3})
    void vocabIdBeyondTheEntries(int id) throws IOException {
        // 2^31-1 made a negative array size, 2^31-2 ran out of memory, 10^9 allocated 5 GB
        Path file = withVocab("{\"a\": 0, \"b\": 1, \"c\": " + id + "}", "[]", "null");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(file));
        assertEquals("model.vocab.c", e.key());
        assertTrue(e.getMessage().contains("an id below 3") && e.getMessage().contains("found " + id), e.getMessage());
    }

    @Test
    void addedTokenIdsMustBeInRange() throws IOException {
        Path file = withVocab("{\"a\": 0, \"b\": 1}", "[{\"id\": -1, \"content\": \"<s>\", \"special\": true}]", "null");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(file));
        assertEquals("added_tokens[0].id", e.key());
        withVocab("{\"a\": 0, \"b\": 1}", "[{\"id\": 7, \"content\": \"<s>\", \"special\": true}]", "null");
        e = assertThrows(TokenizerException.class, () -> Tokenizers.load(file));
        assertEquals("added_tokens[0].id", e.key());
        assertTrue(e.getMessage().contains("an id below 3"), e.getMessage());
        // an added token restating a vocabulary id, or taking the next free one, is fine
        withVocab("{\"a\": 0, \"b\": 1}", "[{\"id\": 1, \"content\": \"b\"}, {\"id\": 2, \"content\": \"<s>\", \"special\": true}]", "null");
        assertEquals(3, Tokenizers.load(file).vocabSize());
    }

    @Test
    void postProcessorIdsMustBeTokens() throws IOException {
        Path file = withVocab("{\"a\": 0, \"b\": 1}", "[]", """
                {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                 "special_tokens": {"<s>": {"id": "<s>", "ids": [99], "tokens": ["<s>"]}}}""");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(file));
        assertTrue(e.key().startsWith("post_processor"), e.key());
        assertTrue(e.getMessage().contains("found 99"), e.getMessage());
    }
}
