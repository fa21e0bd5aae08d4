package jmlc.engine.cli;

import jmlc.compiler.model.Architecture;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.TinyModels;
import jmlc.engine.format.hf.HfModelWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kind of bad input ends with one line on stderr, "jmlc: error: ...", naming what is wrong and
 * what was expected, exit code 2 for usage errors and 1 for failures, and no stack trace unless --debug.
 */
class CliErrorsTest {
    @TempDir
    static Path tmp;

    static Stream<Arguments> usageErrors() {
        return Stream.of(
                Arguments.of("unknown option", new String[] {"chat", "synthetic:tiny", "--frobnicate"}, "unknown option: '--frobnicate'"),
                Arguments.of("misspelt option", new String[] {"bench", "synthetic:tiny", "--gen=4", "--rnus=2"}, "--rnus"),
                Arguments.of("unknown command", new String[] {"chta", "synthetic:tiny"}, "unknown command 'chta' (did you mean chat"),
                Arguments.of("bad --quant", new String[] {"bench", "synthetic:tiny", "--quant", "q5"}, "'--quant': expected one of q4f16_1, q4f32_1, q8f16, q4_0, q0f16, q0f32, found 'q5'"),
                Arguments.of("--tokens not integers", new String[] {"generate", "synthetic:tiny", "--tokens", "1,two,3"}, "'--tokens': expected comma-separated token ids such as 1,450,4996, found 'two'"),
                Arguments.of("--tokens negative", new String[] {"logits", "synthetic:tiny", "--tokens", "1,-4"}, "token ids are >= 0, found -4"),
                Arguments.of("--tokens outside the vocabulary", new String[] {"generate", "synthetic:tiny", "--tokens", "1,32000", "--greedy"}, "token id 32000 is outside the model's vocabulary (0..31999)"),
                Arguments.of("--gen 0", new String[] {"bench", "synthetic:tiny", "--gen", "0"}, "--gen must be a positive number of tokens, found 0"),
                Arguments.of("--gen -3", new String[] {"bench", "synthetic:tiny", "--gen=-3"}, "found -3"),
                Arguments.of("--gen beyond the context", new String[] {"bench", "synthetic:tiny", "--gen", "100", "--max-context", "64", "--bandwidth", "1"}, "need 101 positions, but the context holds 64"),
                Arguments.of("--max-context 0", new String[] {"chat", "synthetic:tiny", "--max-context", "0"}, "--max-context must be a positive number of positions, found 0 (leave it out for the model's window, at most 4096)"),
                Arguments.of("compile --max-context 0", new String[] {"compile", "synthetic:tiny", "--max-context", "0"}, "--max-context must be a positive number of positions, found 0"),
                Arguments.of("compile --emit where no folder can be", new String[] {"compile", "synthetic:tiny", "--emit", "/proc/nope"}, "--emit /proc/nope: cannot create the folder: no such file or directory"),
                Arguments.of("logits past the window", new String[] {"logits", "synthetic:tiny", "--tokens", String.join(",", java.util.Collections.nCopies(40, "5")), "--max-context", "32"},
                        "--tokens: 40 ids need 40 positions but the context window holds 32 (raise --max-context, at most 2048, or pass fewer ids); see 'jmlc logits --help'"),
                Arguments.of("--temperature negative", new String[] {"chat", "synthetic:tiny", "--temperature", "-1"}, "temperature must be >= 0, found -1.0"),
                Arguments.of("--top-p above 1", new String[] {"generate", "synthetic:tiny", "--tokens", "1", "--top-p", "2"}, "top-p must be in (0, 1], found 2.0"),
                Arguments.of("unknown synthetic model", new String[] {"chat", "synthetic:llama-9b"}, "unknown synthetic model 'synthetic:llama-9b': expected one of synthetic:tiny,"),
                Arguments.of("missing model path", new String[] {"bench", tmp.resolve("no-such-model").toString()}, "no-such-model': no such file or directory (expected a model directory, a .gguf file, or synthetic:NAME)"),
                Arguments.of("missing MODEL", new String[] {"bench"}, "missing required parameter: 'MODEL'"),
                Arguments.of("unknown device", new String[] {"chat", "synthetic:tiny", "--device", "cuda:7"}, "--device cuda:7: no device 'cuda:7' here: found cpu"),
                Arguments.of("unknown pass", new String[] {"bench", "synthetic:tiny", "--disable-pass", "FuseEverything"}, "--disable-pass FuseEverything: no such pass; passes are FuseParallelMatmuls,"),
                Arguments.of("unknown template", new String[] {"chat", "synthetic:tiny", "--template", "vicuna"}, "--template vicuna: expected one of llama2, llama3, chatml, mistral"),
                Arguments.of("bad target", new String[] {"compile", "synthetic:tiny", "--target", "metal:m3"}, "--target metal:m3: unknown GPU platform 'metal': expected cuda, rocm (hip) or vulkan"),
                Arguments.of("tokenize: no TEXT", new String[] {"tokenize", "synthetic:tiny"}, "expected TEXT to encode, or --decode IDS"),
                Arguments.of("generate: both prompts", new String[] {"generate", "synthetic:tiny", "--tokens", "1", "--prompt", "Hi"}, "--tokens=IDS, --prompt=TEXT are mutually exclusive"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("usageErrors")
    void usageErrorsAreOneLineAndExitTwo(String what, String[] args, String expected) {
        CliRun r = CliRun.run(args);
        assertEquals(Errors.USAGE, r.exit(), r.toString());
        assertOneErrorLine(r, expected);
    }

    @Test
    void unreadableModelFileIsAFailure() throws IOException {
        Path bad = Files.writeString(tmp.resolve("notes.txt"), "not a model");
        CliRun r = CliRun.run("chat", bad.toString());
        assertEquals(Errors.FAILURE, r.exit(), r.toString());
        assertOneErrorLine(r, "notes.txt: not a model: expected a directory with config.json and *.safetensors, or a .gguf file");
    }

    @Test
    void truncatedGgufNamesTheFile() throws IOException {
        Path gguf = tmp.resolve("truncated.gguf");
        Files.write(gguf, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0, 1});
        CliRun r = CliRun.run("bench", gguf.toString(), "--gen", "4");
        assertEquals(Errors.FAILURE, r.exit(), r.toString());
        assertOneErrorLine(r, "truncated.gguf");
    }

    @Test
    void modelDirectoryWithoutConfigIsAFailure() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("empty-model"));
        CliRun r = CliRun.run("generate", dir.toString(), "--tokens", "1");
        assertEquals(Errors.FAILURE, r.exit(), r.toString());
        assertOneErrorLine(r, "empty-model");
    }

    @Test
    void modelWithoutTokenizerIsATokenizerFailure() {
        Path dir = tmp.resolve("no-tokenizer");
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.LLAMA), 3), TensorDType.F32, 1);
        CliRun r = CliRun.run("chat", dir.toString());
        assertEquals(Errors.FAILURE, r.exit(), r.toString());
        assertOneErrorLine(r, "tokenizer.json");
    }

    @Test
    void engineRejectionsAreFailures() {
        // the engine, not the CLI, knows the model's window
        CliRun r = CliRun.run("generate", "synthetic:tiny", "--tokens", "1", "--max-context", "100000");
        assertEquals(Errors.FAILURE, r.exit(), r.toString());
        assertOneErrorLine(r, "max context 100000 exceeds the model's context window of 2048");
    }

    @Test
    void debugShowsTheStackTrace() {
        CliRun r = CliRun.run("chat", "synthetic:tiny", "--max-context", "100000", "--debug");
        assertEquals(Errors.FAILURE, r.exit(), r.toString());
        assertTrue(r.err().contains("jmlc: error: max context 100000 exceeds"), r.toString());
        assertTrue(r.err().contains("\tat jmlc.engine.api.ModelLoader"), r.toString());
    }

    @Test
    void unexpectedExceptionsSayInternalError() {
        String m = Errors.message(new NullPointerException("x is null"));
        assertEquals("internal error: NullPointerException: x is null (please report it, with the output of --debug)", m);
    }

    @Test
    void errorsWrappedByPicocliAreUnwrapped() {
        java.io.StringWriter err = new java.io.StringWriter();
        CliContext ctx = CliContext.of(java.io.InputStream.nullInputStream(), new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(err, true));
        var wrapped = new picocli.CommandLine.ExecutionException(Main.commandLine(ctx), "Error while running", new OutOfMemoryError("Java heap space"));
        assertEquals(Errors.FAILURE, Errors.failure(ctx, wrapped));
        assertEquals("jmlc: error: out of memory (Java heap space): give Java more with JMLC_JAVA_OPTS=-Xmx16g, or use a smaller model, --max-context or --quant",
                err.toString().strip());
    }

    @Test
    void errorsThrownByCommandsAreOneLineToo() {
        // stdout that fails as a JVM out of memory would: the command throws an Error, not an Exception
        java.io.Writer exhausted = new java.io.Writer() {
            @Override
            public void write(char[] c, int off, int len) {
                throw new OutOfMemoryError("Java heap space");
            }

            @Override
            public void flush() { }

            @Override
            public void close() { }
        };
        java.io.StringWriter err = new java.io.StringWriter();
        CliContext ctx = CliContext.of(java.io.InputStream.nullInputStream(), new java.io.PrintWriter(exhausted), new java.io.PrintWriter(err, true));
        assertEquals(Errors.FAILURE, Main.run(ctx, "devices"));
        assertEquals("jmlc: error: out of memory (Java heap space): give Java more with JMLC_JAVA_OPTS=-Xmx16g, or use a smaller model, --max-context or --quant",
                err.toString().strip());
    }

    @Test
    void multiLineMessagesKeepTheirFirstLine() {
        java.io.StringWriter err = new java.io.StringWriter();
        CliContext ctx = CliContext.of(java.io.InputStream.nullInputStream(), new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(err, true));
        assertEquals(Errors.FAILURE, Errors.failure(ctx, new IllegalStateException("kernel failed to compile\nline 1\nline 2")));
        assertEquals("jmlc: error: kernel failed to compile (more with --debug)", err.toString().strip());
    }

    /**
     * The case: bench synthetic:llama-2-13b --quant q0f32 on a machine with less memory than its
     * 59 GB was killed by the OOM killer after 80 s; it is refused at once, naming both figures.
     */
    @Test
    void aModelLargerThanTheHostsMemoryIsRefusedAtOnce() {
        var free = jmlc.engine.model.MemoryCheck.host();
        org.junit.jupiter.api.Assumptions.assumeTrue(free.isPresent() && free.get().bytes() < 58e9,
                "this machine has room for synthetic:llama-2-13b in q0f32: " + free);
        long t0 = System.nanoTime();
        CliRun r = CliRun.run("bench", "synthetic:llama-2-13b", "--quant", "q0f32", "--device", "cpu");
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(Errors.FAILURE, r.exit(), r.toString());
        assertOneErrorLine(r, "synthetic:llama-2-13b (q0f32) needs about 58.8 GB of memory on the host (weights 52.1 GB, KV cache 6.7 GB, activations 0.1 GB) but ");
        assertTrue(r.errorLines().getFirst().contains("use a 4-bit --quant (q4f16_1: about 7.3 GB of weights)"), r.toString());
        assertTrue(seconds < 10, "refused before making any weights: " + seconds + " s");
    }

    static void assertOneErrorLine(CliRun r, String expected) {
        assertEquals(1, r.errorLines().size(), r.toString());
        String line = r.errorLines().getFirst();
        assertTrue(line.contains(expected), "expected '" + expected + "' in: " + line);
        assertFalse(r.err().contains("\tat "), "stack trace without --debug:\n" + r.err());
        assertFalse(r.err().contains("Exception"), "exception class names are for --debug:\n" + r.err());
        assertTrue(r.errLines().getLast().startsWith("jmlc: error: "), "the error is the last line:\n" + r.err());
    }
}
