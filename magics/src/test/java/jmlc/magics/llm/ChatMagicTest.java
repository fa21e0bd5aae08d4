package jmlc.magics.llm;

import jmlc.engine.api.ChatModule;
import jmlc.magics.Jmlc;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MimeBundle;
import jmlc.magics.core.RecordingOutput;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** %%chat, %chat, %reset and %stats on synthetic:tiny. */
class ChatMagicTest {

    final Notebook nb = new Notebook();

    @BeforeEach
    void load() throws Exception {
        nb.run("%load synthetic:tiny --max-context 512");
        nb.out.clear();
    }

    @AfterEach
    void close() {
        nb.close();
    }

    long stdoutEvents() {
        return nb.out.events().stream().filter(e -> e instanceof RecordingOutput.Event.Stdout).count();
    }

    @Test
    void theCellIsTheMessageAndTheReplyStreams() throws Exception {
        assertNull(nb.run("%%chat --max-tokens 12 --temperature 0\nHello there!\nHow are you?"));
        ChatModule cm = Llm.model(nb.session);
        assertEquals(2, cm.conversation().size());
        assertEquals("Hello there!\nHow are you?", cm.conversation().get(0).content());
        assertTrue(stdoutEvents() > 3, "streamed piece by piece: " + nb.out.events());
        assertEquals(cm.conversation().get(1).content(), nb.out.stdout().strip());
        assertEquals(12, cm.stats().decodeTokens() + 1, "the first token comes from prefill");

        nb.run("%%chat\nAnd then?");
        assertEquals(4, cm.conversation().size(), "a second turn continues the conversation");
        nb.run("%chat reset");
        assertTrue(cm.conversation().isEmpty());
        nb.run("%chat one line message");
        assertEquals("one line message", cm.conversation().getFirst().content());
        nb.run("%reset");
        assertTrue(cm.conversation().isEmpty());
    }

    @Test
    void optionsPersistAcrossCellsAndLoads() throws Exception {
        nb.run("%chat --temperature 0 --max-tokens 8 --seed 5 --top-k 40 --top-p 0.9 --repetition-penalty 1.1");
        assertTrue(nb.out.stdout().contains("Chat settings: greedy (temperature 0), top-p 0.9, top-k 40, repetition penalty 1.1, seed 5, at most 8 tokens"),
                nb.out.stdout());
        nb.run("%%chat\nSame question");
        String first = Llm.model(nb.session).conversation().get(1).content();
        nb.run("%reload --quant q4f16_1");
        assertTrue(Llm.model(nb.session).conversation().isEmpty(), "a reload starts a new conversation");
        nb.run("%%chat\nSame question");
        assertEquals(first, Llm.model(nb.session).conversation().get(1).content(), "greedy with the same weights: the same reply");
        assertEquals(8, Llm.model(nb.session).stats().decodeTokens() + 1);
        MimeBundle shown = nb.bundle("%chat");
        assertTrue(shown.text().contains("at most 8 tokens"), shown.text());
        assertTrue(shown.text().contains("user: Same question"), shown.text());
    }

    @Test
    void systemPromptStartsANewConversationWithIt() throws Exception {
        nb.run("%chat --max-tokens 4");
        nb.run("%%chat\nfirst");
        nb.run("%chat --system 'You are terse.'");
        ChatModule cm = Llm.model(nb.session);
        assertTrue(cm.conversation().isEmpty());
        assertTrue(nb.out.stdout().contains("system prompt \"You are terse.\". The conversation starts over."), nb.out.stdout());
        nb.run("%%chat\nsecond");
        assertEquals("system", cm.conversation().getFirst().role());
        assertEquals("You are terse.", cm.conversation().getFirst().content());
    }

    @Test
    void mistakesAreClearErrors() throws Exception {
        assertEquals("%%chat: the cell is empty: write your message below the %%chat line",
                assertThrows(MagicException.class, () -> nb.run("%%chat\n   \n")).getMessage());
        assertTrue(assertThrows(MagicException.class, () -> nb.run("%%chat hello\nbody")).getMessage()
                .startsWith("%%chat: the message is the cell below the %%chat line"));
        assertEquals("%chat: temperature must be >= 0, found -1.0",
                assertThrows(MagicException.class, () -> nb.run("%chat --temperature -1")).getMessage());
        assertEquals("%chat: top-p must be in (0, 1], found 2.0",
                assertThrows(MagicException.class, () -> nb.run("%chat --top-p 2")).getMessage());
        assertEquals("%chat: --max-tokens must be positive, found 0",
                assertThrows(MagicException.class, () -> nb.run("%chat --max-tokens 0")).getMessage());
        assertTrue(assertThrows(MagicException.class, () -> nb.run("%chat --seed x")).getMessage()
                .startsWith("%chat: Invalid value for option '--seed': 'x' is not a long"));
        var empty = new Notebook();
        assertEquals(Llm.NO_MODEL, assertThrows(MagicException.class, () -> empty.run("%%chat\nhi")).getMessage());
        assertEquals(Llm.NO_MODEL, assertThrows(MagicException.class, () -> empty.run("%stats")).getMessage());
        assertEquals(Llm.NO_MODEL, assertThrows(MagicException.class, () -> empty.run("%reset")).getMessage());
        empty.run("%chat --temperature 0");
        assertTrue(empty.bundle("%chat").text().contains("No model loaded"));
    }

    @Test
    void aLongConversationHitsTheContextWindowWithAClearError() throws Exception {
        nb.run("%reload --max-context 32");
        nb.run("%chat --max-tokens 4");
        var e = assertThrows(MagicException.class, () -> nb.run("%%chat\n" + "word ".repeat(40)));
        assertTrue(e.getMessage().startsWith("%chat: the message needs "), e.getMessage());
        assertTrue(e.getMessage().contains("--max-context") && !e.getMessage().contains("%reset"), "a first message: resetting would not help: " + e.getMessage());
        nb.run("%%chat\nshort");
        assertEquals(2, Llm.model(nb.session).conversation().size(), "the session survives");
        var full = assertThrows(MagicException.class, () -> nb.run("%%chat\nmore words"));
        assertTrue(full.getMessage().startsWith("%chat: the conversation needs "), full.getMessage());
        assertTrue(full.getMessage().contains("%reset"), full.getMessage());
    }

    /** The stop button ends the reply; the conversation keeps it and the model goes on working. */
    @Test
    void interruptStopsTheReplyAndKeepsTheSession() throws Exception {
        var error = new AtomicReference<Throwable>();
        Thread cell = new Thread(() -> {
            try {
                nb.run("%%chat --max-tokens 100000\nTell me a very long story.");
            } catch (Throwable t) {
                error.set(t);
            }
        });
        cell.start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (stdoutEvents() < 5 && System.nanoTime() < deadline) Thread.sleep(5);
        cell.interrupt();
        cell.join(60_000);
        assertFalse(cell.isAlive(), "the reply stopped");
        assertTrue(error.get() instanceof InterruptedException, String.valueOf(error.get()));
        assertTrue(nb.out.stdout().endsWith("\n[stopped: the reply so far stays in the conversation]\n"), nb.out.stdout());
        ChatModule cm = Llm.model(nb.session);
        assertEquals(2, cm.conversation().size());
        assertTrue(cm.stats().decodeTokens() < 100000);
        nb.run("%chat --max-tokens 4");
        nb.run("%%chat\nAre you still there?");
        assertEquals(4, cm.conversation().size());
    }

    @Test
    void statsShowTheLastRequest() throws Exception {
        assertEquals("No request yet since the model was loaded.", nb.bundle("%stats").text());
        nb.run("%%chat --max-tokens 6\nhi");
        MimeBundle stats = nb.bundle("%stats");
        assertTrue(stats.text().matches("synthetic:tiny q4f16_1 on cpu: prefill: [0-9.]+ tok/s \\(\\d+ tokens\\), decode: [0-9.]+ tok/s \\(5 tokens\\)"),
                stats.text());
        assertTrue(((String) stats.data().get(MimeBundle.HTML)).contains("<td style=\"text-align:left\">decode</td>"));
    }

    /** What a Java cell does: Jmlc.model() is the ChatModule %load put in the notebook's session. */
    @Test
    void javaCellsReachTheModelThroughJmlc() {
        Jmlc.session().remove(Llm.MODEL);
        var e = assertThrows(MagicException.class, Jmlc::model);
        assertEquals("no model loaded: run %load MODEL first (e.g. %load synthetic:tiny)", e.getMessage());
        ChatModule cm = Llm.model(nb.session);
        Jmlc.session().put(Llm.MODEL, cm);
        try {
            Jmlc.model().benchmarkGenerate("Hi", 8);
            assertEquals(7, Jmlc.model().stats().decodeTokens());
            assertTrue(Jmlc.model().stats().toString().startsWith("prefill: "));
        } finally {
            Jmlc.session().remove(Llm.MODEL);
        }
    }
}
