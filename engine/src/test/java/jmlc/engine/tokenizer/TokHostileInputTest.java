package jmlc.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regular expressions from tokenizer files run within a step budget, and tokenizing and loading
 * stop when their thread is interrupted (issue 14: a pre-tokenizer of {@code (.*a){12}c} hung
 * tokenize, %%chat and a plain cell on 40 "a"s, and the stop button could not end it).
 */
class TokHostileInputTest {
    @TempDir
    Path dir;

    static final String CATASTROPHIC = "(.*a){12}c";

    private Tokenizer withSplit(String regex) throws IOException {
        return write("null", "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"" + regex + "\"}, \"behavior\": \"Isolated\", \"invert\": false}");
    }

    private Tokenizer write(String normalizer, String preTokenizer) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"version": "1.0", "added_tokens": [], "normalizer": %s, "pre_tokenizer": %s, "post_processor": null,
                 "decoder": null, "model": {"type": "BPE", "vocab": {"a": 0, "c": 1, "aa": 2}, "merges": ["a a"]}}
                """.formatted(normalizer, preTokenizer));
        return Tokenizers.load(dir);
    }

    @Test
    void catastrophicBacktrackingIsStoppedWithAClearError() throws IOException {
        Tokenizer tok = withSplit(CATASTROPHIC);
        TokenizerException e = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThrows(TokenizerException.class, () -> tok.encode("a".repeat(40), false)));
        assertEquals(dir.resolve("tokenizer.json").toString(), e.file());
        assertEquals("pre_tokenizer.pattern.Regex", e.key());
        assertTrue(e.getMessage().contains(CATASTROPHIC) && e.getMessage().contains("backtrack"), e.getMessage());
        assertEquals(2, tok.encode("aac", false).length, "the same pattern still works where it matches quickly");
    }

    @Test
    void normalizerRegexesAreBoundedToo() throws IOException {
        Tokenizer tok = write("{\"type\": \"Replace\", \"pattern\": {\"Regex\": \"" + CATASTROPHIC + "\"}, \"content\": \"x\"}", "null");
        TokenizerException e = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThrows(TokenizerException.class, () -> tok.encode("a".repeat(40), false)));
        assertEquals("normalizer.pattern.Regex", e.key());
    }

    @Test
    void anInterruptStopsALongMatchWithinASecond() throws Exception {
        Tokenizer tok = withSplit(CATASTROPHIC);
        String text = "a".repeat(200_000); // a budget of many seconds: the interrupt must end it first
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                tok.encode(text, false);
            } catch (Throwable x) {
                failure.set(x);
            }
        });
        t.start();
        Thread.sleep(300);
        long stop = System.nanoTime();
        t.interrupt();
        t.join(5_000);
        double seconds = (System.nanoTime() - stop) / 1e9;
        assertTrue(!t.isAlive(), "still running 5 s after the interrupt");
        assertTrue(seconds < 1, "took " + seconds + " s to stop");
        assertTrue(failure.get() instanceof CancellationException, "ended by " + failure.get());
    }

    /** The patterns of real tokenizers, on real text and on long runs of one kind of character, read each character a few times. */
    @Test
    void realPatternsStayFarBelowTheBudget() {
        StringBuilder corpus = new StringBuilder();
        for (String line : TokenizerFixtures.corpus()) corpus.append(line).append('\n');
        java.util.Map<String, String> texts = java.util.Map.of("corpus", corpus.toString(), "spaces", " ".repeat(100_000) + "x",
                "newlines", " \n".repeat(50_000), "digits", "7".repeat(100_000), "punctuation", "!?".repeat(50_000), "letters", "a".repeat(100_000),
                "mixed", "a1 !\n\t".repeat(20_000));
        java.util.Map<String, String> patterns = java.util.Map.of("llama3", GgufPreTokenizers.LLAMA3, "qwen2", GgufPreTokenizers.QWEN2, "gpt2", GgufPreTokenizers.GPT2);
        double worst = 0;
        for (var p : patterns.entrySet()) {
            SplitPattern pattern = SplitPattern.regex(p.getValue(), null);
            for (var t : texts.entrySet()) {
                double perChar = (double) pattern.reads(t.getValue()) / t.getValue().length();
                System.out.printf("%s on %s: %.1f reads a character%n", p.getKey(), t.getKey(), perChar);
                worst = Math.max(worst, perChar);
            }
        }
        assertTrue(worst * 100 <= SplitPattern.STEPS_PER_CHAR, "the worst real case, " + worst + " reads a character, is within 1/100 of the budget");
    }

    /** One BPE word of millions of characters (a SentencePiece-style file has no pre-tokenizer) stops at an interrupt. */
    @Test
    void anInterruptStopsALongBpeWord() throws Exception {
        Tokenizer tok = write("null", "null");
        String word = "a".repeat(4_000_000);
        long t0 = System.nanoTime();
        assertEquals(2_000_000, tok.encode(word, false).length);
        double once = (System.nanoTime() - t0) / 1e9;
        System.out.printf("a word of %d characters encodes in %.2f s%n", word.length(), once);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                tok.encode(word, false);
            } catch (Throwable x) {
                failure.set(x);
            }
        });
        t.start();
        Thread.sleep(Math.max(50, (long) (once * 1000 / 4)));
        long stop = System.nanoTime();
        t.interrupt();
        t.join(10_000);
        double seconds = (System.nanoTime() - stop) / 1e9;
        assertTrue(failure.get() instanceof CancellationException, "ended by " + failure.get() + " after " + seconds + " s");
        assertTrue(seconds < 0.5 * once + 0.05, "took " + seconds + " s to stop, of " + once + " s for the whole word");
    }

    @Test
    void loadingHonoursAnInterrupt() {
        Thread.currentThread().interrupt();
        try {
            assertThrows(CancellationException.class, () -> Tokenizers.load(TokenizerFixtures.modelDir("llama3")));
        } finally {
            Thread.interrupted();
        }
    }
}
