package jmlc.jupyter;

import jmlc.magics.core.DisplayHandle;
import jmlc.magics.Jmlc;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicRegistry;
import jmlc.magics.Magics;
import jmlc.magics.core.MimeBundle;
import jmlc.magics.core.Output;
import jmlc.magics.core.RecordingOutput;
import jmlc.magics.core.Session;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cells mixing Java and magics, errors, interrupts: the kernel's behaviour without Jupyter. */
class CellRunnerTest {

    /** Sleeps until interrupted: a stand-in for a long %load. */
    static final class Wait implements Magic {
        public String name() { return "wait"; }
        public String summary() { return "Waits a minute."; }
        public Object run(MagicContext ctx) throws Exception {
            ctx.println("waiting");
            Thread.sleep(60_000);
            return "done";
        }
    }

    /** Fails the way a bug would. */
    static final class Boom implements Magic {
        public String name() { return "boom"; }
        public String summary() { return "Throws."; }
        public Object run(MagicContext ctx) { throw new IllegalStateException("kaboom", new ArithmeticException("root")); }
    }

    /** Streams and shows progress, as %load and %%chat will. */
    static final class Stream implements Magic {
        public String name() { return "stream"; }
        public String summary() { return "Streams tokens."; }
        public java.util.Set<Form> forms() { return java.util.Set.of(Form.CELL); }
        public Object run(MagicContext ctx) {
            try (var p = ctx.progress("tokens", 2)) {
                for (String token : ctx.body().split(" ")) {
                    ctx.print(token);
                    p.step(token);
                }
            }
            return MimeBundle.markdown("**" + ctx.args() + "**");
        }
    }

    static final RecordingOutput out = new RecordingOutput();
    static CellRunner runner;
    static Output previous;

    @BeforeAll
    static void start() {
        previous = Jmlc.setOutput(out);
        MagicRegistry magics = Magics.registry().with(new Wait(), new Boom(), new Stream());
        runner = new CellRunner(new JavaShell(JavaShell.processClasspath(), note -> out.stderr(note)), magics, new Session(), out);
    }

    @AfterAll
    static void stop() {
        runner.java().close();
        Jmlc.setOutput(previous);
    }

    @BeforeEach
    void clear() {
        out.clear();
    }

    @Test
    void javaAndMagicsRunInOrderAndTheLastValueIsTheResult() {
        Optional<MimeBundle> r = runner.runCell("int n = 20;\n%time n + 1\nn * 2");
        assertEquals(Optional.of(MimeBundle.text("40")), r);
        assertTrue(out.stdout().startsWith("Wall time: "), out.stdout());
        Optional<MimeBundle> help = runner.runCell("%help");
        assertTrue(help.orElseThrow().text().contains("%classpath"));
        assertEquals(Optional.empty(), runner.runCell("int m = 1;"));
    }

    @Test
    void timeShowsTheValueOfItsCode() {
        assertEquals(Optional.of(MimeBundle.text("\"x\"")), runner.runCell("%time \"x\""));
        assertEquals(Optional.of(MimeBundle.text("3")), runner.runCell("%%time\nint a3 = 1;\na3 + 2"));
    }

    @Test
    void cellCodeDisplaysThroughTheSameOutput() {
        var r = runner.runCell("var h = Display.markdown(\"one\");\nh.update(MimeBundle.markdown(\"two\"));\ndisplay(\"three\")");
        assertEquals(Optional.empty(), r, "a display handle as the last value shows nothing");
        var events = out.events();
        assertEquals(3, events.size(), events.toString());
        var first = assertInstanceOf(RecordingOutput.Event.Shown.class, events.get(0));
        assertEquals(MimeBundle.markdown("one"), first.bundle());
        assertEquals(new RecordingOutput.Event.Updated(first.displayId(), MimeBundle.markdown("two")), events.get(1));
        assertEquals(MimeBundle.text("three"), assertInstanceOf(RecordingOutput.Event.Shown.class, events.get(2)).bundle());
    }

    @Test
    void displayablesShowTheirOwnBundle() {
        var r = runner.runCell("record Chart(int n) implements Displayable {\n"
                + "  public MimeBundle toMimeBundle() { return MimeBundle.svg(\"<svg>\" + n + \"</svg>\").withText(\"chart \" + n); }\n"
                + "}\nnew Chart(3)");
        assertEquals(MimeBundle.svg("<svg>3</svg>").withText("chart 3"), r.orElseThrow());
    }

    @Test
    void magicsStreamTextAndUpdateProgress() {
        var r = runner.runCell("%%stream title\na b");
        assertEquals(MimeBundle.markdown("**title**"), r.orElseThrow());
        assertEquals("ab", out.stdout());
        var last = assertInstanceOf(RecordingOutput.Event.Updated.class, out.events().getLast());
        assertTrue(last.bundle().text().contains("2/2"), last.bundle().text());
    }

    @Test
    void userMistakesAreMagicErrorsAndStateSurvives() {
        runner.runCell("String survivor = \"still here\";");
        var unknown = assertThrows(CellError.class, () -> runner.runCell("%nosuch 1 2"));
        assertEquals("MagicError", unknown.name());
        assertTrue(unknown.value().startsWith("Unknown magic %nosuch."), unknown.value());
        var badArg = assertThrows(CellError.class, () -> runner.runCell("%classpath add"));
        assertEquals("%classpath add: name at least one jar or folder", badArg.value());
        var badOption = assertThrows(CellError.class, () -> runner.runCell("%help --nope"));
        assertTrue(badOption.traceback().contains("Usage: %help [-h] [NAME]"), badOption.traceback().toString());
        var misplaced = assertThrows(CellError.class, () -> runner.runCell("int z = 1;\n%%time\nz"));
        assertTrue(misplaced.value().contains("must be the first line"), misplaced.value());
        assertEquals(Optional.of(MimeBundle.text("\"still here\"")), runner.runCell("survivor"));
    }

    @Test
    void helpOptionPrintsUsage() {
        assertEquals(Optional.empty(), runner.runCell("%session -h"));
        assertTrue(out.stdout().startsWith("Usage: %session"), out.stdout());
    }

    @Test
    void bugsInMagicsShowATrimmedTrace() {
        var e = assertThrows(CellError.class, () -> runner.runCell("%boom"));
        assertEquals("java.lang.IllegalStateException", e.name());
        assertEquals("kaboom", e.value());
        assertEquals("Error in %boom:", e.traceback().get(0));
        assertEquals("java.lang.IllegalStateException: kaboom", e.traceback().get(1));
        assertTrue(e.traceback().get(2).contains("CellRunnerTest$Boom.run"), e.traceback().toString());
        assertTrue(e.traceback().contains("Caused by: java.lang.ArithmeticException: root"), e.traceback().toString());
        assertTrue(e.traceback().stream().noneMatch(l -> l.contains("MagicRegistry") || l.contains("CellRunner.")),
                e.traceback().toString());
    }

    @Test
    void errorsInsideTimeComeThroughAsTheyAre() {
        var e = assertThrows(CellError.class, () -> runner.runCell("%time int bad = \"s\";"));
        assertEquals("CompileError", e.name());
        assertTrue(out.stdout().startsWith("Wall time: "));
    }

    @Test
    void interruptStopsAMagicAndKeepsState() {
        runner.runCell("int beforeWait = 5;");
        var cell = CompletableFuture.supplyAsync(() -> runner.runCell("%wait\nbeforeWait = 6;"));
        waitFor(() -> out.stdout().contains("waiting"));
        runner.interrupt();
        var e = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(Exception.class, cell::join));
        assertEquals("Interrupted", assertInstanceOf(CellError.class, e.getCause()).name());
        assertEquals(Optional.of(MimeBundle.text("5")), runner.runCell("beforeWait"), "the rest of the cell did not run");
    }

    @Test
    void interruptStopsJavaAndKeepsState() {
        runner.runCell("int counter = 0;");
        var started = Session.Key.of("loopStarted", Boolean.class);
        var cell = CompletableFuture.supplyAsync(() -> runner.runCell(
                "Jmlc.session().put(Session.Key.of(\"loopStarted\", Boolean.class), true);\nwhile (true) { counter++; }"));
        waitFor(() -> Jmlc.session().get(started).isPresent());
        runner.interrupt();
        var e = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(Exception.class, cell::join));
        assertEquals("Interrupted", assertInstanceOf(CellError.class, e.getCause()).name());
        assertEquals(Optional.of(MimeBundle.text("\"ok\"")), runner.runCell("\"ok\""));
    }

    @Test
    void displayHandlesAreNotResults() {
        assertEquals(Optional.empty(), CellRunner.resultBundle(null));
        assertEquals(Optional.empty(), CellRunner.resultBundle(DisplayHandle.open(out, "x")));
        assertEquals(Optional.of(MimeBundle.text("1")), CellRunner.resultBundle(1));
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting");
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void kernelHelpersBlankMagicLinesForJava() {
        assertEquals("int a;\n         \nb", JmlcKernel.javaOnly("int a;\n%time abc\nb"));
        assertEquals("\n  x", JmlcKernel.javaOnly("\n  x"));
    }
}
