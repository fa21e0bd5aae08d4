package jmlc.jupyter;

import jmlc.magics.core.JavaValue;
import jmlc.magics.Jmlc;
import jmlc.magics.core.MimeBundle;
import jmlc.magics.core.Session;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** JShell evaluation without Jupyter: one shell for the class, as one notebook would use it. */
class JavaShellTest {

    static JavaShell shell;
    static final List<String> notes = new ArrayList<>();

    @BeforeAll
    static void start() {
        shell = new JavaShell(JavaShell.processClasspath(), notes::add);
    }

    @AfterAll
    static void stop() {
        shell.close();
    }

    @Test
    void severalSnippetsAndTheLastValue() {
        JavaValue v = shell.eval("int a = 2;\nint twice(int x) { return 2 * x; }\n// comment\ntwice(a) + 1", 0);
        assertEquals(5, v.object());
        assertEquals("5", v.text());
        assertEquals("int", v.type());
        assertEquals(7, shell.eval("a + 5", 0).object());
        assertEquals(2, shell.eval("a", 0).object(), "a variable's name alone is its value");
    }

    @Test
    void declarationsAndStatementsHaveNoValue() {
        assertNull(shell.eval("int unshown = 1;", 0));
        assertNull(shell.eval("unshown = 2;\nSystem.out.print(\"\");", 0));
        assertNull(shell.eval("  \n// only a comment\n", 0));
    }

    @Test
    void valuesAreTheRealObjects() {
        Object list = shell.eval("var shared = new ArrayList<String>(List.of(\"x\"));\nshared", 0).object();
        assertInstanceOf(ArrayList.class, list);
        assertSame(list, shell.eval("shared", 0).object());
        assertEquals("[\"x\"]".replace("\"", ""), list.toString());
        assertEquals("\"abc\"", shell.eval("\"abc\"", 0).text());
    }

    @Test
    void cellsReachTheSessionMagicsUse() {
        shell.eval("Jmlc.session().put(Session.Key.of(\"fromCell\", Integer.class), 41 + 1);", 0);
        assertEquals(42, Jmlc.session().get(Session.Key.of("fromCell", Integer.class)).orElseThrow());
        Jmlc.session().put(Session.Key.of("fromTest", String.class), "hi");
        assertEquals("hi", shell.eval("Jmlc.session().get(Session.Key.of(\"fromTest\", String.class)).get()", 0).object());
        Object bundle = shell.eval("MimeBundle.html(\"<b>x</b>\")", 0).object();
        assertEquals(MimeBundle.html("<b>x</b>"), bundle);
    }

    @Test
    void vectorApiAndEngineClassesCompile() {
        assertTrue((Integer) shell.eval("jdk.incubator.vector.FloatVector.SPECIES_128.length()", 0).object() >= 4);
        assertEquals("jmlc.compiler.ir.DType", shell.eval("jmlc.compiler.ir.DType.class.getName()", 0).object());
    }

    @Test
    void compileErrorShowsTheLineAndTheMessage() {
        var e = assertThrows(CellError.class, () -> shell.eval("int ok = 1;\nint bad = \"text\";\nint never = 3;", 4));
        assertEquals("CompileError", e.name());
        assertTrue(e.value().startsWith("line 6: incompatible types"), e.value());
        assertEquals(List.of(
                "Compile error at line 6:",
                "    int bad = \"text\";",
                "              ^----^",
                "incompatible types: java.lang.String cannot be converted to int"), e.traceback());
        assertEquals(1, shell.eval("ok", 0).object(), "snippets before the error ran");
        assertThrows(CellError.class, () -> shell.eval("never", 0), "snippets after the error did not");
    }

    @Test
    void unknownNamesSayWhatIsMissing() {
        var e = assertThrows(CellError.class, () -> shell.eval("nowhere + 1", 0));
        assertEquals(List.of("Compile error at line 1:", "    nowhere + 1", "    ^-----^",
                "cannot find symbol", "  symbol:   variable nowhere"), e.traceback());
    }

    @Test
    void classpathAdditionsCompileAndRun(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path src = dir.resolve("demo/Hello.java");
        java.nio.file.Files.createDirectories(src.getParent());
        java.nio.file.Files.writeString(src, "package demo; public class Hello { public String hi() { return \"hi from a jar\"; } }");
        int rc = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", dir.toString(), src.toString());
        assertEquals(0, rc);
        shell.addToClasspath(dir.toString());
        assertTrue(shell.classpath().contains(dir.toString()));
        assertEquals("hi from a jar", shell.eval("new demo.Hello().hi()", 0).object());
    }

    @Test
    void exceptionShowsClassMessageAndCellLines() {
        shell.eval("void fail(String why) { throw new IllegalStateException(why); }", 0);
        var e = assertThrows(CellError.class, () -> shell.eval("int before = 1;\n\nfail(\"boom\");", 0));
        assertEquals("java.lang.IllegalStateException", e.name());
        assertEquals("boom", e.value());
        assertEquals("java.lang.IllegalStateException: boom", e.traceback().getFirst());
        assertTrue(e.traceback().contains("    at fail(line 1)"), e.traceback().toString());
        assertTrue(e.traceback().contains("    at <cell>(line 3)"), e.traceback().toString());
        assertEquals(1, shell.eval("before", 0).object());

        var commented = assertThrows(CellError.class, () -> shell.eval("int x0 = 0;\n// why\n  // not\nfail(\"again\");", 10));
        assertTrue(commented.traceback().contains("    at <cell>(line 14)"), commented.traceback().toString());
    }

    @Test
    void causesAreShown() {
        var e = assertThrows(CellError.class, () -> shell.eval(
                "throw new RuntimeException(\"outer\", new java.io.IOException(\"inner\"));", 0));
        assertTrue(e.traceback().contains("Caused by: java.io.IOException: inner"), e.traceback().toString());
    }

    @Test
    void unresolvedDeclarationsAreNotes() {
        notes.clear();
        assertNull(shell.eval("class Later { Missing m; }", 0));
        assertEquals(List.of("class Later is declared, but cannot be used until class Missing is declared."), notes);
    }

    @Test
    void stopEndsARunningLoopAndKeepsState() {
        shell.eval("int kept = 7;", 0);
        var stopper = new Thread(() -> {
            try {
                Thread.sleep(500);
            } catch (InterruptedException ignored) {
            }
            shell.stop();
        });
        stopper.start();
        var e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(20),
                () -> assertThrows(CellError.class, () -> shell.eval("long n = 0;\nwhile (true) { n++; }", 0)));
        assertEquals("Interrupted", e.name());
        shell.clearStop();
        assertEquals(7, shell.eval("kept", 0).object());

        new Thread(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException ignored) {
            }
            shell.stop();
        }).start();
        var sleeping = assertThrows(CellError.class, () -> shell.eval("Thread.sleep(60_000);", 0));
        assertTrue(sleeping.name().equals("Interrupted") || sleeping.name().equals("java.lang.InterruptedException"), sleeping.name());
        shell.clearStop();
        assertEquals(8, shell.eval("kept + 1", 0).object());
    }

    @Test
    void completion() {
        var c = shell.complete("Jmlc.sess", 9);
        assertEquals(List.of("session()"), c.matches());
        assertEquals(5, c.start());
        assertEquals(9, c.end());
        var second = shell.complete("int q = 1;\nMath.ma", 18);
        assertTrue(second.matches().contains("max("), second.matches().toString());
        assertEquals(16, second.start());
    }

    @Test
    void inspection() {
        String doc = shell.inspect("Math.max", 8).orElseThrow();
        assertTrue(doc.startsWith("int Math.max(int a, int b)"), doc);
        assertTrue(doc.contains("Returns the greater of two int values"), doc);
        shell.eval("int inspected = 3;", 0);
        assertEquals("inspected:int", shell.inspect("inspected", 4).orElseThrow());
    }

    @Test
    void completeness() {
        assertEquals("complete", shell.isComplete("int x = 1;\nx + 1").status());
        assertEquals("incomplete", shell.isComplete("for (int i = 0; i < 3; i++) {").status());
        assertEquals("    ", shell.isComplete("void f() {\n").indent());
        assertEquals("invalid", shell.isComplete("int z = 1; int w = ; int v = 2;").status());
        assertEquals("complete", shell.isComplete("").status());
    }
}
