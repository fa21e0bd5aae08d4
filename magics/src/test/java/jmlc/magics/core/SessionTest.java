package jmlc.magics.core;

import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionTest {

    static final Session.Key<String> NAME = Session.Key.of("name", String.class);

    @Test
    void typedEntries() {
        var s = new Session();
        assertEquals(Optional.empty(), s.get(NAME));
        assertEquals(Optional.empty(), s.put(NAME, "a"));
        assertEquals(Optional.of("a"), s.put(NAME, "b"));
        assertEquals("b", s.require(NAME, "unused"));
        assertEquals(Optional.of("b"), s.remove(NAME));
        var e = assertThrows(MagicException.class, () -> s.require(NAME, "no name: run %name first"));
        assertEquals("no name: run %name first", e.getMessage());
    }

    @Test
    void aKeyOfTheWrongTypeSaysWhatIsThere() {
        var s = new Session();
        s.put(NAME, "x");
        var e = assertThrows(MagicException.class, () -> s.get(Session.Key.of("name", Integer.class)));
        assertTrue(e.getMessage().contains("java.lang.String"), e.getMessage());
    }

    @Test
    void clearClosesWhatCanBeClosed() {
        var s = new Session();
        var closed = new AtomicBoolean();
        s.put(Session.Key.of("model", AutoCloseable.class), () -> closed.set(true));
        s.put(NAME, "x");
        assertEquals(2, s.clear());
        assertTrue(closed.get());
        assertTrue(s.entries().isEmpty());
    }
}
