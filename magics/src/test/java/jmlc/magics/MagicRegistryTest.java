package jmlc.magics;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicRegistry;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.RecordingOutput;

class MagicRegistryTest {

    /** A cell-only magic, to check forms. */
    static final class Upper implements Magic {
        public String name() { return "upper"; }
        public String summary() { return "Upper-cases the cell."; }
        public Set<Form> forms() { return Set.of(Form.CELL); }
        public Object run(MagicContext ctx) { return ctx.body().toUpperCase(); }
    }

    final MagicRegistry registry = Magics.registry().with(new Upper());
    final FakeShell shell = new FakeShell(code -> null);

    @Test
    void theStandardListHasHelpFirst() {
        assertEquals("help", Magics.all().getFirst().name());
        assertEquals(List.of("help", "device", "load", "reload", "chat", "reset", "stats", "bench", "ir", "kernels", "source", "tune",
                        "time", "classpath", "session", "upper"),
                registry.all().stream().map(Magic::name).toList());
    }

    @Test
    void unknownMagicListsTheKnownOnes() {
        var e = assertThrows(MagicException.class, () -> FakeShell.run(registry, "%lod model", new RecordingOutput(), shell));
        assertTrue(e.getMessage().startsWith("Unknown magic %lod."), e.getMessage());
        assertTrue(e.getMessage().contains("%help, %device, %load, "), e.getMessage());
        assertTrue(e.getMessage().contains("%chat, "), "a magic of both forms is listed as its line form: " + e.getMessage());
        assertTrue(e.getMessage().contains("%%upper"), e.getMessage());
    }

    @Test
    void wrongFormSaysWhichFormExists() {
        var e = assertThrows(MagicException.class, () -> FakeShell.run(registry, "%upper abc", new RecordingOutput(), shell));
        assertEquals("%upper does not exist: use %%upper as the first line of a cell.", e.getMessage());
        var e2 = assertThrows(MagicException.class, () -> FakeShell.run(registry, "%%help\nx", new RecordingOutput(), shell));
        assertEquals("%%help does not exist: use %help.", e2.getMessage());
    }

    @Test
    void cellMagicGetsItsBody() throws Exception {
        assertEquals("HELLO\nWORLD", FakeShell.run(registry, "%%upper\nhello\nworld", new RecordingOutput(), shell));
    }

    @Test
    void namesAreCheckedAndUnique() {
        assertThrows(IllegalArgumentException.class, () -> new MagicRegistry(List.of(new Upper(), new Upper())));
        Magic bad = new Magic() {
            public String name() { return "has space"; }
            public String summary() { return ""; }
            public Object run(MagicContext ctx) { return null; }
        };
        assertThrows(IllegalArgumentException.class, () -> new MagicRegistry(List.of(bad)));
    }
}
