package jmlc.engine.cli;

import jmlc.engine.tokenizer.Tokenizer;
import jmlc.engine.tokenizer.Tokenizers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jmlc tokenize} on every kind of source (a tokenizer.json, a model directory, a .gguf's
 * embedded vocabulary, a synthetic model), and the real-format models through chat and generate.
 */
class CliTokenizeTest {
    static final String TEXT = "Hello world, it's 2024!";

    @TempDir
    static Path tmp;
    static Path hf, gguf;
    static Tokenizer reference;

    @BeforeAll
    static void models() {
        hf = CliFixtures.hfModel(tmp.resolve("tiny-llama-hf"));
        gguf = CliFixtures.ggufModel(tmp.resolve("tiny-llama.gguf"));
        reference = Tokenizers.load(CliFixtures.llama2Tokenizer());
    }

    static int[] encode(String source, String... extra) {
        String[] args = new String[2 + extra.length + 1];
        args[0] = "tokenize";
        args[1] = source;
        args[2] = TEXT;
        System.arraycopy(extra, 0, args, 3, extra.length);
        CliRun r = CliRun.run(args);
        assertEquals(0, r.exit(), r.toString());
        return CliFixtures.ints(CliFixtures.json(r.out()).get("tokens"));
    }

    @Test
    void everySourceGivesTheSameIds() {
        int[] expected = reference.encode(TEXT, true);
        assertEquals(1, expected[0], "BOS first");
        assertArrayEquals(expected, encode(CliFixtures.llama2Tokenizer().resolve("tokenizer.json").toString()));
        assertArrayEquals(expected, encode(hf.toString()));
        assertArrayEquals(expected, encode(hf.resolve("config.json").toString()));
        assertArrayEquals(expected, encode(gguf.toString()));
    }

    @Test
    void noSpecialLeavesOutBos() {
        assertArrayEquals(reference.encode(TEXT, false), encode(hf.toString(), "--no-special"));
    }

    @Test
    void decodeRoundTrips() {
        String ids = String.join(",", java.util.Arrays.stream(reference.encode(TEXT, true)).mapToObj(Integer::toString).toList());
        CliRun r = CliRun.run("tokenize", gguf.toString(), "--decode", ids);
        assertEquals(0, r.exit(), r.toString());
        assertEquals("<s> " + TEXT, r.out().strip(), "special tokens shown unless --no-special");
        CliRun clean = CliRun.run("tokenize", hf.toString(), "--decode", ids, "--no-special");
        assertEquals(TEXT, clean.out().strip());
    }

    @Test
    void syntheticModelsTokenizeBytes() {
        CliRun r = CliRun.run("tokenize", "synthetic:tiny", "Hi");
        assertEquals("{\"tokens\":[1,75,108]}", r.out().strip(), "BOS, then byte + 3");
    }

    @Test
    void badSources() {
        CliRun missing = CliRun.run("tokenize", tmp.resolve("nope.json").toString(), "Hi");
        assertEquals(Errors.USAGE, missing.exit(), missing.toString());
        CliRun noTokenizer = CliRun.run("tokenize", tmp.toString(), "Hi");
        assertEquals(Errors.FAILURE, noTokenizer.exit(), noTokenizer.toString());
        CliErrorsTest.assertOneErrorLine(noTokenizer, "tokenizer.json");
        CliRun outOfRange = CliRun.run("tokenize", "synthetic:tiny", "--decode", "1,99999");
        assertEquals(Errors.USAGE, outOfRange.exit(), outOfRange.toString());
        CliErrorsTest.assertOneErrorLine(outOfRange, "token id 99999 is outside the vocabulary (0..31999)");
    }

    /** The real formats run end to end: a Hugging Face directory and a GGUF file, with their own tokenizers and templates. */
    @Test
    void realFormatModelsChatAndGenerate() {
        CliRun chat = CliRun.withInput("Hello!\n/stats\n", "chat", hf.toString(), "--max-tokens", "4", "--greedy");
        assertEquals(0, chat.exit(), chat.toString());
        assertTrue(chat.err().contains("chat template llama2"), chat.toString());
        assertTrue(chat.out().contains("decode:"), chat.toString());

        CliRun gen = CliRun.run("generate", gguf.toString(), "--prompt", "Hello", "--max-tokens", "3", "--greedy", "--ignore-eos", "--json");
        assertEquals(0, gen.exit(), gen.toString());
        assertEquals(3, CliFixtures.json(gen.out()).get("tokens").size());
        assertTrue(gen.err().contains("q8f16"), "a Q8_0 GGUF loads as q8f16:\n" + gen.err());

        CliRun bench = CliRun.run("bench", hf.toString(), "--gen", "4", "--bandwidth", "20", "--quant", "q4f32_1");
        assertEquals(0, bench.exit(), bench.toString());
        assertTrue(bench.out().contains("roofline:"), bench.toString());
    }
}
