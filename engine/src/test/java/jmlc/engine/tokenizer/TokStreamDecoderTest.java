package jmlc.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Streaming decode, one id at a time, must add up to the whole-sequence decode. */
class TokStreamDecoderTest {

    static List<String> names() {
        return TokenizerFixtures.NAMES;
    }

    @ParameterizedTest
    @MethodSource("names")
    void streamedCorpusEqualsWholeDecode(String name) {
        Tokenizer tok = TokenizerFixtures.tokenizer(name);
        for (String text : TokenizerFixtures.corpus()) {
            for (boolean skip : new boolean[] {false, true}) {
                int[] ids = tok.encode(text, true);
                assertEquals(tok.decode(ids, skip), stream(tok, ids, skip), name + " skip=" + skip + " " + TokReferenceTest.quote(text));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("names")
    void streamedRandomIdsEqualWholeDecode(String name) {
        // Random ids make broken UTF-8, byte tokens in odd places and clean-up patterns across tokens.
        Tokenizer tok = TokenizerFixtures.tokenizer(name);
        Random random = new Random(7);
        for (int round = 0; round < 200; round++) {
            int[] ids = new int[1 + random.nextInt(30)];
            for (int i = 0; i < ids.length; i++) ids[i] = random.nextInt(4) == 0 ? random.nextInt(300) : random.nextInt(tok.vocabSize());
            assertEquals(tok.decode(ids, true), stream(tok, ids, true), name + " ids " + java.util.Arrays.toString(ids));
        }
    }

    @Test
    void holdsBackIncompleteCharacters() {
        Tokenizer tok = TokenizerFixtures.tokenizer("llama2");
        // "🫠" (Unicode 14) is not in the vocabulary: byte fallback gives four <0xXX> tokens.
        int[] ids = tok.encode("🫠b", false);
        assertEquals("<0xF0>", tok.token(ids[1]));
        StreamDecoder stream = tok.streamDecoder(false);
        List<String> pieces = new ArrayList<>();
        for (int id : ids) pieces.add(stream.next(id));
        pieces.add(stream.flush());
        assertEquals(List.of("", "", "", "", "", "🫠b", ""), pieces, "ids " + java.util.Arrays.toString(ids));
    }

    @Test
    void firstTokenLosesItsSentencePieceSpaceLaterOnesKeepIt() {
        Tokenizer tok = TokenizerFixtures.tokenizer("llama2");
        StreamDecoder stream = tok.streamDecoder(true);
        List<String> pieces = new ArrayList<>();
        for (int id : tok.encode("Hello world", true)) pieces.add(stream.next(id));
        assertEquals(List.of("", "Hello", " world"), pieces);
    }

    @Test
    void cleanUpSpacesAcrossTokens() {
        // Llama-3's config turns clean_up_tokenization_spaces on: " ," must not be half-emitted.
        Tokenizer tok = TokenizerFixtures.tokenizer("llama3");
        int[] ids = tok.encode("Hello , world . I do n't know", false);
        assertEquals("Hello, world. I don't know", tok.decode(ids, false));
        assertEquals(tok.decode(ids, false), stream(tok, ids, false));
    }

    static String stream(Tokenizer tok, int[] ids, boolean skip) {
        StreamDecoder stream = tok.streamDecoder(skip);
        StringBuilder out = new StringBuilder();
        for (int id : ids) out.append(stream.next(id));
        return out.append(stream.flush()).toString();
    }
}
