package jmlc.engine.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The synthetic models' tokenizer: made-up words that encode back to their ids, bytes for everything else. */
class TokSyntheticTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run
    final SyntheticTokenizer tok = new SyntheticTokenizer(32000);

    /** What a random model generates (words), decoded and encoded again, gives the same ids: a chat's next turn needs no more positions than the reply had. */
    @Test
    void generatedWordsEncodeBackToTheirIds() {
        Random rnd = new Random(SEED);
        for (int trial = 0; trial < 500; trial++) {
            int[] ids = rnd.ints(1 + rnd.nextInt(40), 259, 32000).toArray();
            String text = tok.decode(ids, true);
            assertArrayEquals(ids, tok.encode(text, false), "'" + text + "' (seed " + SEED + ")");
        }
        // the case that broke the second chat turn: 5 ids made 45 characters, which encoded as 45 byte tokens
        int[] five = {31999, 20000, 12345, 4096, 30001};
        String text = tok.decode(five, true);
        assertTrue(text.length() > 20, text);
        assertEquals(5, tok.encode(text, false).length, text);
    }

    @Test
    void anyTextEncodesAndDecodesToItself() {
        Random rnd = new Random(SEED);
        String[] parts = {" ", " ka", " kado", "ka", " kaka", " re", " zzz", "é", "日本", "\n", "!", " Hello", " dokado", " x"};
        for (int trial = 0; trial < 500; trial++) {
            StringBuilder sb = new StringBuilder();
            for (int i = rnd.nextInt(12); i >= 0; i--) sb.append(parts[rnd.nextInt(parts.length)]);
            String text = sb.toString();
            assertEquals(text, tok.decode(tok.encode(text, false), true), "seed " + SEED);
            assertEquals(text, tok.decode(tok.encode(text, true), true), "with BOS, seed " + SEED);
        }
    }

    @Test
    void wordsAndBytes() {
        assertArrayEquals(new int[] {1, 259}, tok.encode(" ka", true), "a word is one id");
        assertArrayEquals(new int[] {259 + 16}, tok.encode(" kado", false), "syllables are digits, the first the lowest");
        assertArrayEquals(new int[] {3 + 'k', 3 + 'a'}, tok.encode("ka", false), "no space, no word");
        assertEquals(5, tok.encode(" kaka", false).length, "'kaka' is no id's spelling (a leading 'ka' digit is never written)");
        assertEquals(3, tok.encode(" xy", false).length, "letters that are no syllables stay bytes");
        assertEquals(" kado", tok.token(259 + 16).replace('▁', ' '));
        assertEquals(259 + 16, tok.tokenId("▁kado").orElseThrow());
        // a word beyond a small vocabulary is bytes
        SyntheticTokenizer small = new SyntheticTokenizer(300);
        assertArrayEquals(new int[] {275}, small.encode(" kado", false), "id 275 is in it");
        assertEquals(7, small.encode(" kadomi", false).length, "id 787 is not");
        assertTrue(small.tokenId("▁kadomi").isEmpty());
    }
}
