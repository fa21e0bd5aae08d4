package jmlc.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pipeline steps on small inputs, with expectations from HF tokenizers' own unit tests where it has them. */
class TokPipelinePartsTest {

    private static List<String> texts(List<PreTokenizer.Piece> pieces) {
        return pieces.stream().map(PreTokenizer.Piece::text).toList();
    }

    @Test
    void metaspaceAsHfTestsIt() {
        // tokenizers/src/pre_tokenizers/metaspace.rs: basic, multiple_spaces, non_legacy_meta_space.
        PreTokenizer always = new PreTokenizer.Metaspace("▁", "always", true);
        assertEquals(List.of("▁Hey", "▁friend!"), texts(always.apply(List.of(new PreTokenizer.Piece("Hey friend!", true)))));
        assertEquals(List.of("▁Hey", "▁", "▁", "▁friend!"), texts(always.apply(List.of(new PreTokenizer.Piece("Hey   friend!", true)))));
        PreTokenizer first = new PreTokenizer.Metaspace("▁", "first", false);
        List<PreTokenizer.Piece> pieces = List.of(new PreTokenizer.Piece(" Hey ", true), new PreTokenizer.Piece("how", false));
        assertEquals(List.of("▁Hey▁", "how"), texts(first.apply(pieces)));
        Decoder decoder = new Decoder.Metaspace("▁", true);
        assertEquals(List.of("Hey", " friend!"), decoder.decodeChain(List.of("▁Hey", "▁friend!")));
        assertEquals(List.of(" Hey", " friend!"), new Decoder.Metaspace("▁", false).decodeChain(List.of("▁Hey", "▁friend!")));
    }

    @Test
    void splitBehaviors() {
        // tokenizers/src/tokenizer/normalizer.rs split tests: "The-final--countdown" split on '-'.
        SplitPattern dash = SplitPattern.literal("-");
        PreTokenizer.Piece text = new PreTokenizer.Piece("The-final--countdown", true);
        assertEquals(List.of("The", "final", "countdown"), texts(new PreTokenizer.Split(dash, PreTokenizer.Behavior.REMOVED, false).apply(List.of(text))));
        assertEquals(List.of("The", "-", "final", "-", "-", "countdown"), texts(new PreTokenizer.Split(dash, PreTokenizer.Behavior.ISOLATED, false).apply(List.of(text))));
        assertEquals(List.of("The-", "final-", "-", "countdown"), texts(new PreTokenizer.Split(dash, PreTokenizer.Behavior.MERGED_WITH_PREVIOUS, false).apply(List.of(text))));
        assertEquals(List.of("The", "-final", "-", "-countdown"), texts(new PreTokenizer.Split(dash, PreTokenizer.Behavior.MERGED_WITH_NEXT, false).apply(List.of(text))));
        assertEquals(List.of("The", "-", "final", "--", "countdown"), texts(new PreTokenizer.Split(dash, PreTokenizer.Behavior.CONTIGUOUS, false).apply(List.of(text))));
    }

    @Test
    void regexWhitespaceIsUnicodeWhiteSpaceAsInOniguruma() {
        // HF compiles Split patterns with Oniguruma, whose \s is Unicode White_Space: U+0085 and U+00A0
        // are in it, U+FEFF is not (JavaScript's \s is the other way round for U+0085 and U+FEFF).
        SplitPattern ws = SplitPattern.regex("\\s+", null);
        assertEquals(List.of("a", "\u0085\u00a0\u3000", "b"), texts(new PreTokenizer.Split(ws, PreTokenizer.Behavior.ISOLATED, false)
                .apply(List.of(new PreTokenizer.Piece("a\u0085\u00a0\u3000b", true)))));
        assertEquals(List.of("a\ufeffb"), texts(new PreTokenizer.Split(ws, PreTokenizer.Behavior.ISOLATED, false)
                .apply(List.of(new PreTokenizer.Piece("a\ufeffb", true)))));
        assertEquals("\\p{IsHan}+|\\P{IsLatin}|\\p{L}", SplitPattern.toJava("\\p{Han}+|\\p{^Latin}|\\p{L}"));
    }

    @Test
    void addedTokenStripAndSingleWord() {
        AddedVocabulary added = new AddedVocabulary(List.of(
                new AddedToken(10, "<mask>", true, true, true, false, false),
                new AddedToken(11, "cat", false, false, false, true, false)));
        List<AddedVocabulary.Segment> segs = added.splitRaw("I  <mask>  you, cat concat cat_ cat.");
        assertEquals(List.of("I", "<mask>", "you, ", "cat", " concat cat_ ", "cat", "."),
                segs.stream().map(AddedVocabulary.Segment::text).toList());
        assertEquals(List.of(-1, 10, -1, 11, -1, 11, -1), segs.stream().map(AddedVocabulary.Segment::id).toList());
    }

    @Test
    void addedTokensMatchLeftmostLongest() {
        AddedVocabulary added = new AddedVocabulary(List.of(AddedToken.special(1, "<|a|>"), AddedToken.special(2, "<|a|><|b|>"),
                AddedToken.special(3, "|><|")));
        assertEquals(List.of(2, -1, 1), added.splitRaw("<|a|><|b|>x<|a|>").stream().map(AddedVocabulary.Segment::id).toList());
    }

    @Test
    void byteFallbackDecoderGivesOneReplacementPerInvalidByte() {
        // tokenizers/src/decoders/byte_fallback.rs: ["<0xE5>"] -> ["�"], ["<0xE5>", "<0x8f>"] -> ["�", "�"].
        Decoder d = new Decoder.ByteFallback();
        assertEquals(List.of("\uFFFD"), d.decodeChain(List.of("<0xE5>")));
        assertEquals(List.of("\uFFFD", "\uFFFD"), d.decodeChain(List.of("<0xE5>", "<0x8f>")));
        assertEquals(List.of("叫"), d.decodeChain(List.of("<0xE5>", "<0x8f>", "<0xab>")));
        assertEquals(List.of("Hey", "friend!"), d.decodeChain(List.of("Hey", "friend!")));
    }

    @Test
    void lossyUtf8AsRust() {
        byte[] bytes = {'a', (byte) 0xF0, (byte) 0x9F, 'b', (byte) 0xED, (byte) 0xA0, (byte) 0x80, (byte) 0xC3};
        // Rust's from_utf8_lossy: F0 9F is one maximal subpart (one U+FFFD); ED A0 80 (a surrogate) three; C3 at the end one.
        assertEquals("a\uFFFDb\uFFFD\uFFFD\uFFFD\uFFFD", Utf8.decodeLossy(bytes));
        assertEquals(2, Utf8.incompleteTail(new byte[] {'x', (byte) 0xE4, (byte) 0xB8})); // first two bytes of U+4E2D
        assertEquals(0, Utf8.incompleteTail("x\u4E2D".getBytes(StandardCharsets.UTF_8)));
        assertEquals(0, Utf8.incompleteTail(new byte[] {'x', (byte) 0xE4, 'y'}));
    }

    @Test
    void byteLevelAlphabet() {
        assertEquals("ĠHello", ByteLevelAlphabet.encode(" Hello"));
        assertEquals("Ċ", ByteLevelAlphabet.encode("\n"));
        assertEquals("ä¸Ń", ByteLevelAlphabet.encode("中"));
        assertEquals(List.of("中 a"), new Decoder.ByteLevel().decodeChain(List.of("ä¸Ń", "Ġa")));
    }

    @Test
    void cleanUpAsTransformers() {
        assertEquals("Hello, world. I don't know, it's fine", CleanUp.apply("Hello , world . I do n't know , it 's fine"));
        // Python's str.replace, one pattern after the other: " ?" first, then " ' " -> "'", then " 's".
        assertEquals("it's'quoted '?", CleanUp.apply("it 's ' quoted ' ?"));
    }

    @Test
    void templateProcessingLlama3() {
        // Meta-Llama-3's later tokenizer.json: Sequence[ByteLevel, TemplateProcessing(<|begin_of_text|> $A)].
        PostProcessor p = new PostProcessor.Sequence(List.of(new PostProcessor.None(), new PostProcessor.Template(java.util.Arrays.asList(new int[] {128000}, null))));
        assertArrayEquals(new int[] {128000, 9906, 1917}, p.addSpecialTokens(new int[] {9906, 1917}));
    }
}
