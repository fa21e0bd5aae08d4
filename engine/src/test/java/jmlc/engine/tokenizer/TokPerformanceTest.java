package jmlc.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Loading the 128k Llama-3 vocabulary and encoding long text stay fast. */
class TokPerformanceTest {

    @Test
    void llama3LoadsQuickly() {
        TokenizerFixtures.modelDir("llama3");
        Tokenizers.load(TokenizerFixtures.modelDir("llama3")); // warm up class loading and the JIT once
        // CPU time of this thread: wall time on a shared 2-core CI machine measures the neighbours.
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long start = System.nanoTime(), cpuStart = mx.getCurrentThreadCpuTime();
        Tokenizer tok = Tokenizers.load(TokenizerFixtures.modelDir("llama3"));
        double cpu = (mx.getCurrentThreadCpuTime() - cpuStart) / 1e9, wall = (System.nanoTime() - start) / 1e9;
        System.out.printf("llama3 tokenizer.json (%d tokens) loaded in %.3f s CPU (%.3f s wall)%n", tok.vocabSize(), cpu, wall);
        assertTrue(cpu < 1.5, "loading took " + cpu + " s of CPU time");
    }

    @Test
    void longTextEncodesInLinearishTime() {
        StringBuilder sb = new StringBuilder();
        for (String line : TokenizerFixtures.corpus()) sb.append(line).append(' ');
        String unit = sb.toString();
        String text = unit.repeat(Math.max(1, 200_000 / unit.length()));
        for (String name : TokenizerFixtures.NAMES) {
            Tokenizer tok = TokenizerFixtures.tokenizer(name);
            tok.encode(unit, false);
            // A SentencePiece file has no pre-tokenizer: one line without special tokens is one BPE word.
            String oneWord = "lorem ipsum dolor sit amet ".repeat(4000);
            long start = System.nanoTime();
            int n = tok.encode(text, false).length + tok.encode(oneWord, false).length;
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("%s: %d chars -> %d tokens in %.3f s%n", name, text.length() + oneWord.length(), n, seconds);
            assertTrue(seconds < 5.0, name + " took " + seconds + " s");
        }
    }
}
