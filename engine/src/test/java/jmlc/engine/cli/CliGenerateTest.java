package jmlc.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import jmlc.engine.api.ChatModule;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.sampling.Sampler;
import jmlc.engine.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jmlc generate} and {@code jmlc logits}: what they print agrees with the API and with each other. */
class CliGenerateTest {

    @Test
    void generateJsonIsWhatTheApiGenerates() {
        CliRun r = CliRun.run("generate", "synthetic:tiny", "--tokens", "1,450,4996", "--max-tokens", "6", "--greedy", "--json", "-q");
        assertEquals(0, r.exit(), r.toString());
        int[] cli = CliFixtures.ints(CliFixtures.json(r.out()).get("tokens"));
        try (ChatModule cm = ChatModule.load("synthetic:tiny", LoadOptions.defaults())) {
            int[] api = cm.generateTokens(new int[] {1, 450, 4996}, new GenerationConfig(6, SamplingParams.GREEDY, cm.model().tokenizer().eosIds(), false));
            assertArrayEquals(api, cli);
        }
    }

    /** {@code --kv-cache i8}: the logits an int8 cache gives are the API's with the same option, near the f16 cache's. */
    @Test
    void anInt8KvCacheIsTakenFromTheCommandLine() {
        int[] tokens = {1, 450, 4996};
        CliRun r = CliRun.run("logits", "synthetic:tiny", "--tokens", "1,450,4996", "--kv-cache", "i8", "-q");
        assertEquals(0, r.exit(), r.toString());
        JsonNode rows = CliFixtures.json(r.out()).get("logits");
        try (ChatModule i8 = ChatModule.load("synthetic:tiny", LoadOptions.defaults().kvCache("i8").allLogits(true));
             ChatModule f16 = ChatModule.load("synthetic:tiny", LoadOptions.defaults().allLogits(true))) {
            assertEquals(jmlc.compiler.ir.DType.I8, i8.model().compiled().graph().states().getFirst().type().dtype());
            float[] api = i8.logits(tokens)[2], reference = f16.logits(tokens)[2];
            double num = 0, den = 0;
            for (int i = 0; i < api.length; i++) {
                assertEquals(api[i], rows.get(2).get(i).floatValue(), 1e-5f * (1 + Math.abs(api[i])), "id " + i + ": the CLI's logits are the API's");
                num += Math.pow(api[i] - reference[i], 2);
                den += Math.pow(reference[i], 2);
            }
            assertTrue(num > 0, "an int8 cache rounds what the f16 cache keeps");
            assertTrue(Math.sqrt(num / den) < 0.1, "an int8 cache's logits near the f16 cache's: " + Math.sqrt(num / den));
        }
        CliRun bad = CliRun.run("logits", "synthetic:tiny", "--tokens", "1", "--kv-cache", "q4");
        assertEquals(2, bad.exit(), bad.toString());
        assertTrue(bad.err().contains("expected f32, f16 or i8, found 'q4'"), bad.err());
    }

    @Test
    void generateTextIsTheDecodedIds() {
        CliRun json = CliRun.run("generate", "synthetic:tiny", "--prompt", "Once upon", "--max-tokens", "4", "--greedy", "--json", "-q");
        CliRun text = CliRun.run("generate", "synthetic:tiny", "--prompt", "Once upon", "--max-tokens", "4", "--greedy");
        assertEquals(0, text.exit(), text.toString());
        int[] ids = CliFixtures.ints(CliFixtures.json(json.out()).get("tokens"));
        try (ChatModule cm = ChatModule.load("synthetic:tiny", LoadOptions.defaults())) {
            assertEquals(cm.model().tokenizer().decode(ids, true) + System.lineSeparator(), text.out());
        }
        assertTrue(text.err().contains("decode:"), "the speed goes to stderr:\n" + text);
    }

    @Test
    void ignoreEosGeneratesExactlyMaxTokens() {
        CliRun r = CliRun.run("generate", "synthetic:tiny", "--tokens", "[1, 450]", "--max-tokens", "7", "--ignore-eos", "--seed", "5", "--json", "-q");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(7, CliFixtures.json(r.out()).get("tokens").size());
    }

    @Test
    void logitsHaveOneRowPerPositionAndAgreeWithGreedyGeneration() {
        CliRun r = CliRun.run("logits", "synthetic:tiny", "--tokens", "1,450,4996", "-q");
        assertEquals(0, r.exit(), r.toString());
        JsonNode j = CliFixtures.json(r.out());
        assertArrayEquals(new int[] {1, 450, 4996}, CliFixtures.ints(j.get("tokens")));
        JsonNode rows = j.get("logits");
        assertEquals(3, rows.size());
        float[] last = new float[rows.get(2).size()];
        assertEquals(32000, last.length);
        for (int i = 0; i < last.length; i++) last[i] = rows.get(2).get(i).floatValue();
        CliRun g = CliRun.run("generate", "synthetic:tiny", "--tokens", "1,450,4996", "--max-tokens", "1", "--greedy", "--ignore-eos", "--json", "-q");
        assertEquals(Sampler.argmax(last), CliFixtures.json(g.out()).get("tokens").get(0).intValue(), "the last row's argmax is the greedy next token");
    }

    @Test
    void logitsMatchTheApiExactly() {
        CliRun r = CliRun.run("logits", "synthetic:tiny", "--tokens", "1,2000", "-q");
        JsonNode rows = CliFixtures.json(r.out()).get("logits");
        try (ChatModule cm = ChatModule.load("synthetic:tiny", LoadOptions.defaults().allLogits(true))) {
            float[][] api = cm.logits(new int[] {1, 2000});
            for (int p = 0; p < 2; p++)
                for (int i = 0; i < api[p].length; i += 997) assertEquals(api[p][i], rows.get(p).get(i).floatValue(), "position " + p + ", id " + i);
        }
    }

    @Test
    void tooManyTokensForTheContextIsAUsageError() {
        String ids = String.join(",", java.util.Collections.nCopies(40, "5"));
        CliRun r = CliRun.run("logits", "synthetic:tiny", "--tokens", ids, "--max-context", "32");
        assertEquals(Errors.USAGE, r.exit(), r.toString());
        CliErrorsTest.assertOneErrorLine(r, "need 40 positions but the context window holds 32");
        assertFalse(r.err().contains("/reset") || r.err().contains("resetChat"), "logits has no conversation to reset: " + r.err());
        assertEquals(Set.of(), Set.copyOf(r.outLines()), "nothing on stdout");
        CliRun prompt = CliRun.run("generate", "synthetic:tiny", "--tokens", ids, "--max-context", "32");
        CliErrorsTest.assertOneErrorLine(prompt, "the prompt needs 40 positions but the context window holds 32: use fewer tokens, or load the model with a longer context");
    }

    /** Generation that fills the context window before --max-tokens says so and fails, after printing what it made. */
    @Test
    void aFullContextWindowEndsGenerationWithAnError() {
        CliRun r = CliRun.run("generate", "synthetic:tiny", "--tokens", "1,300", "--max-tokens", "100", "--max-context", "30", "--ignore-eos", "--json");
        assertEquals(Errors.FAILURE, r.exit(), r.toString());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("stopped after (\\d+) of 100 tokens: the context window of 30 positions is full "
                + "\\(raise --max-context, at most 2048, or lower --max-tokens\\)").matcher(r.errorLines().getLast());
        assertTrue(m.find(), r.toString());
        assertEquals(Integer.parseInt(m.group(1)), CliFixtures.json(r.out()).get("tokens").size(), "what was generated is printed");
    }
}
