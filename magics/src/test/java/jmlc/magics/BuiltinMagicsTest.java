package jmlc.magics;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import jmlc.magics.core.Html;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MagicRegistry;
import jmlc.magics.core.MimeBundle;
import jmlc.magics.core.RecordingOutput;
import jmlc.magics.core.Session;
import jmlc.magics.core.Shell;

/** %help, %time, %classpath and %session, run as the kernel runs them but without Jupyter. */
class BuiltinMagicsTest {

    final MagicRegistry registry = Magics.registry();
    final RecordingOutput out = new RecordingOutput();

    Object run(String cell, Shell shell) throws Exception {
        return FakeShell.run(registry, cell, out, shell);
    }

    Object run(String cell) throws Exception {
        return run(cell, new FakeShell(code -> null));
    }

    @Test
    void everyMagicsHelpRendersWithoutPicocliWarnings() {
        var err = new java.io.ByteArrayOutputStream();
        var previous = System.err;
        System.setErr(new java.io.PrintStream(err, true));
        try {
            for (Magic m : registry.all()) assertTrue(!m.help().isBlank(), m.name());
        } finally {
            System.setErr(previous);
        }
        assertEquals("", err.toString(), "write a literal % as %% in picocli texts");
    }

    @Test
    void helpListsEveryMagicWithItsSummary() throws Exception {
        var bundle = (MimeBundle) run("%help");
        for (Magic m : registry.all()) {
            assertTrue(bundle.text().contains(m.summary()), m.name());
            assertTrue(((String) bundle.data().get(MimeBundle.HTML)).contains(Html.escape(m.summary())), m.name());
        }
        assertTrue(bundle.text().contains("%time, %%time"), bundle.text());
    }

    @Test
    void helpNameShowsDetails() throws Exception {
        for (String name : new String[]{"time", "%time", "%%time"}) {
            var bundle = (MimeBundle) run("%help " + name);
            assertTrue(bundle.text().startsWith("%time, %%time"), bundle.text());
            assertTrue(bundle.text().contains("Usage: %time CODE"), bundle.text());
        }
        var classpath = (MimeBundle) run("%help classpath");
        assertTrue(classpath.text().contains("Usage: %classpath"), classpath.text());
    }

    @Test
    void helpForAnUnknownMagicIsAClearError() {
        var e = assertThrows(MagicException.class, () -> run("%help nosuch"));
        assertEquals("%help: no magic named nosuch. Run %help to list them.", e.getMessage());
        var tooMany = assertThrows(MagicException.class, () -> run("%help a b"));
        assertTrue(tooMany.getMessage().contains("Usage: %help"), tooMany.getMessage());
    }

    @Test
    void helpOptionPrintsUsageInsteadOfFailing() {
        var e = assertThrows(MagicException.HelpRequested.class, () -> run("%session --help"));
        assertTrue(e.getMessage().contains("Usage: %session"), e.getMessage());
    }

    @Test
    void timeRunsTheCodeAndPrintsTheWallTime() throws Exception {
        var shell = new FakeShell(code -> "value of " + code.strip());
        assertEquals("value of 1 + 1", run("%time 1 + 1", shell));
        assertEquals("value of int x = 2;\nx", run("%%time\nint x = 2;\nx", shell));
        assertTrue(out.stdout().matches("(?s)Wall time: [0-9.]+ (ns|µs|ms)\nWall time: .*"), out.stdout());
        assertThrows(MagicException.class, () -> run("%time   "));
    }

    @Test
    void timeReportsEvenWhenTheCodeFails() {
        var shell = new FakeShell(code -> { throw new IllegalStateException("boom"); });
        assertThrows(IllegalStateException.class, () -> run("%time f()", shell));
        assertTrue(out.stdout().startsWith("Wall time: "), out.stdout());
    }

    @Test
    void timeFormats() {
        assertEquals("850 ns", jmlc.magics.builtin.TimeMagic.format(850));
        assertEquals("12.3 µs", jmlc.magics.builtin.TimeMagic.format(12_300));
        assertEquals("4.56 ms", jmlc.magics.builtin.TimeMagic.format(4_560_000));
        assertEquals("1.234 s", jmlc.magics.builtin.TimeMagic.format(1_234_000_000));
        assertEquals("2 min 3.4 s", jmlc.magics.builtin.TimeMagic.format(123_400_000_000L));
    }

    @Test
    void classpathListsAndAdds() throws Exception {
        var shell = new FakeShell(code -> null);
        assertEquals(MimeBundle.text("/a.jar"), run("%classpath", shell));
        Path jar = Files.createTempFile("extra", ".jar");
        try {
            assertNull(run("%classpath add '" + jar + "'", shell));
            assertEquals(jar.toString(), shell.classpath.getLast());
            assertTrue(out.stdout().contains("added " + jar), out.stdout());
        } finally {
            Files.delete(jar);
        }
        var missing = assertThrows(MagicException.class, () -> run("%classpath add /no/such.jar", shell));
        assertTrue(missing.getMessage().contains("no such file or folder: /no/such.jar"), missing.getMessage());
        var badAction = assertThrows(MagicException.class, () -> run("%classpath remove x", shell));
        assertTrue(badAction.getMessage().contains("list, add"), badAction.getMessage());
    }

    @Test
    void sessionListsAndRemovesEntries() throws Exception {
        var session = new Session();
        var shell = new FakeShell(code -> null);
        MagicContext ctx = new MagicContext("session", Magic.Form.LINE, "", "", session, out, shell, registry);
        assertEquals(MimeBundle.text("The session is empty."), registry.resolve("session", Magic.Form.LINE).run(ctx));
        session.put(Session.Key.of("answer", Integer.class), 42);
        var listed = (MimeBundle) registry.resolve("session", Magic.Form.LINE).run(ctx);
        assertEquals("answer : java.lang.Integer = 42", listed.text());
        var remove = new MagicContext("session", Magic.Form.LINE, "remove answer", "", session, out, shell, registry);
        registry.resolve("session", Magic.Form.LINE).run(remove);
        assertTrue(session.entries().isEmpty());
        var again = assertThrows(MagicException.class, () -> registry.resolve("session", Magic.Form.LINE).run(remove));
        assertTrue(again.getMessage().contains("no entry named answer"), again.getMessage());
    }
}
