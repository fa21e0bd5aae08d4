package jmlc.jupyter;

import jmlc.magics.Jmlc;
import jmlc.magics.Magics;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicRegistry;
import jmlc.magics.core.MimeBundle;
import jmlc.magics.core.Output;
import jmlc.magics.core.RecordingOutput;
import jmlc.magics.core.Session;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a cell must not be able to do to the kernel (issue 14): end it with System.exit, break a
 * library class for the rest of the session by a stop that lands in its initialiser, or run on
 * after the stop button while tokenizing.
 */
class KernelSafetyTest {

    /** Uses a class whose initialiser takes 0.7 s: a stand-in for %bench's first chart (Tablesaw). */
    static final class SlowInit implements Magic {
        public String name() { return "slowinit"; }
        public String summary() { return "Initialises a slow class."; }
        public Object run(MagicContext ctx) {
            ctx.println("initialising");
            return ClassInitFixtures.ForMagic.touch();
        }
    }

    static final RecordingOutput out = new RecordingOutput();
    static CellRunner runner;
    static Output previous;

    @BeforeAll
    static void start() {
        previous = Jmlc.setOutput(out);
        MagicRegistry magics = Magics.registry().with(new SlowInit());
        runner = new CellRunner(new JavaShell(JavaShell.processClasspath(), note -> out.stderr(note)), magics, new Session(), out);
    }

    @AfterAll
    static void stop() {
        runner.java().close();
        Jmlc.setOutput(previous);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "System.exit(3);",
            "Runtime.getRuntime().exit(4);",
            "Runtime.getRuntime().halt(5);",
            "java.util.function.IntConsumer bye = System::exit;\nbye.accept(6);",
            "java.util.function.IntConsumer bound = Runtime.getRuntime()::halt;\nbound.accept(7);",
            "java.util.function.ObjIntConsumer<Runtime> unbound = Runtime::exit;\nunbound.accept(Runtime.getRuntime(), 8);",
            "class Bye { static void now() { System.exit(9); } }\nBye.now();"})
    void exitingIsRefusedAndTheSessionLivesOn(String cell) {
        runner.runCell("int survivor = 41;");
        CellError e = assertThrows(CellError.class, () -> runner.runCell(cell));
        assertTrue(e.value().contains("is refused in a notebook cell") && e.value().contains("restart the kernel"), e.value());
        assertEquals(Optional.of(MimeBundle.text("42")), runner.runCell("survivor + 1"));
    }

    @Test
    void aStopDuringALibraryClassInitialisationWaitsForIt() {
        // Java cells: JShell's stop interrupts the snippet thread; were it to land in the initialiser, the
        // class would fail and every later use would be a NoClassDefFoundError
        var first = CompletableFuture.supplyAsync(() -> runner.runCell("jmlc.jupyter.ClassInitFixtures.touchForJava()"));
        waitFor(() -> ClassInitFixtures.javaStarted);
        sleep(150);
        runner.interrupt();
        finishOrInterrupted(first);
        assertEquals(Optional.of(MimeBundle.text("42")), runner.runCell("jmlc.jupyter.ClassInitFixtures.ForJava.touch()"));
    }

    @Test
    void aStopDuringALibraryClassInitialisationInAMagicWaitsForIt() {
        var first = CompletableFuture.supplyAsync(() -> runner.runCell("%slowinit"));
        waitFor(() -> out.stdout().contains("initialising"));
        sleep(150);
        runner.interrupt();
        finishOrInterrupted(first);
        assertEquals(Optional.of(MimeBundle.text("43")), runner.runCell("%slowinit"));
    }

    /** The cell ends either way; if it failed, it was as interrupted, not with the class broken. */
    private static void finishOrInterrupted(CompletableFuture<Optional<MimeBundle>> cell) {
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> cell.join());
        } catch (CompletionException e) {
            assertEquals("Interrupted", assertInstanceOf(CellError.class, e.getCause()).name(), String.valueOf(e.getCause()));
        }
    }

    @Test
    void tokenizingInACellStopsWithinASecond(@TempDir Path dir) throws Exception {
        // a pre-tokenizer that backtracks catastrophically, over a text long enough for its step budget to last long
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"version": "1.0", "added_tokens": [], "normalizer": null, "post_processor": null, "decoder": null,
                 "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(.*a){12}c"}, "behavior": "Isolated", "invert": false},
                 "model": {"type": "BPE", "vocab": {"a": 0, "c": 1}, "merges": []}}
                """);
        runner.runCell("var evil = jmlc.engine.tokenizer.Tokenizers.load(java.nio.file.Path.of(\"" + dir.toString().replace("\\", "\\\\") + "\"));");
        var cell = CompletableFuture.supplyAsync(() -> runner.runCell("evil.encode(\"a\".repeat(300_000), false)"));
        sleep(500);
        long stop = System.nanoTime();
        runner.interrupt();
        CompletionException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(CompletionException.class, cell::join));
        double seconds = (System.nanoTime() - stop) / 1e9;
        assertEquals("Interrupted", assertInstanceOf(CellError.class, e.getCause()).name());
        assertTrue(seconds < 1, "the cell took " + seconds + " s to stop");
        assertEquals(Optional.of(MimeBundle.text("2")), runner.runCell("1 + 1"));
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting");
            sleep(10);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
