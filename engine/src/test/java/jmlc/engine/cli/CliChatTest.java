package jmlc.engine.cli;

import jmlc.engine.api.ChatModule;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.generate.GenerationStats;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jmlc chat} with piped input: one message per line, commands, errors that keep the session, Ctrl-C. */
class CliChatTest {

    @Test
    void pipedMessagesAndCommands() {
        CliRun r = CliRun.withInput("""
                Hello there
                /stats
                /system You are terse.
                And again

                /reset
                /help
                /nonsense
                /exit
                never read
                """, "chat", "synthetic:tiny", "--max-tokens", "6", "--seed", "3");
        assertEquals(0, r.exit(), r.toString());
        List<String> out = r.outLines();
        // reply, stats, system note, reply, reset note, help (7 lines), unknown command
        assertEquals(13, out.size(), r.toString());
        assertFalse(out.get(0).isBlank());
        assertFalse(out.get(0).startsWith(" "), "replies start at their first word: '" + out.get(0) + "'");
        assertTrue(out.get(1).matches("prefill: [0-9.]+ tok/s \\(\\d+ tokens\\), decode: [0-9.]+ tok/s \\(5 tokens\\)"), out.get(1));
        assertEquals("(system prompt set; conversation reset)", out.get(2));
        assertEquals("(conversation reset)", out.get(4));
        assertEquals("/help            this list", out.get(5));
        assertEquals("unknown command /nonsense; /help lists the commands", out.get(12));
        assertTrue(r.err().contains("loaded synthetic:tiny: llama, 4 layers"), r.err());
        assertTrue(r.err().contains("chat template llama2"), r.err());
    }

    /** Two messages with the default reply length: the second turn continues the first (it used to need 9339 positions of 2048). */
    @Test
    void aSecondMessageAfterADefaultLengthReply() {
        CliRun r = CliRun.withInput("Hello\nTell me more\n/stats\n", "chat", "synthetic:tiny", "--seed", "4");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of(), r.errorLines(), r.toString());
        assertFalse(r.err().contains("error"), r.toString());
        List<String> out = r.outLines();
        assertEquals(3, out.size(), r.toString());
        assertTrue(out.get(2).endsWith("(63 tokens)"), "a synthetic model's reply stops at 64 tokens by default: " + out.get(2));
    }

    @Test
    void endOfInputEndsTheChat() {
        CliRun r = CliRun.withInput("Hi\n", "chat", "synthetic:tiny", "--max-tokens", "3", "--greedy", "-q");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(1, r.outLines().size(), r.toString());
        assertEquals("", r.err(), "--quiet: nothing on stderr");
    }

    @Test
    void greedyRepliesRepeatAndSeedsRepeatSampling() {
        String a = CliRun.withInput("Hi\n", "chat", "synthetic:tiny", "--max-tokens", "5", "--seed", "9", "-q").out();
        String b = CliRun.withInput("Hi\n", "chat", "synthetic:tiny", "--max-tokens", "5", "--seed", "9", "-q").out();
        assertEquals(a, b);
    }

    @Test
    void errorsInsideTheChatKeepTheSession() {
        // a 40-position window: the long message cannot fit, the short one can
        CliRun r = CliRun.withInput("x".repeat(100) + "\nHi\n/reload synthetic:nope\n/stats\n",
                "chat", "synthetic:tiny", "--max-context", "40", "--max-tokens", "3", "--greedy");
        assertEquals(Errors.FAILURE, r.exit(), "a message failed: " + r);
        assertTrue(r.err().contains("error: the message needs 1"), r.toString());
        assertTrue(r.err().contains("error: unknown synthetic model 'synthetic:nope'"), r.toString());
        assertTrue(r.err().contains("(still chatting with synthetic:tiny)"), r.toString());
        assertTrue(r.out().contains("decode:"), "the short message got a reply:\n" + r);
        assertEquals("jmlc: error: 2 of 4 lines failed (the errors are above)", r.errLines().getLast(), "piped input: the exit code and a last line say so");
    }

    @Test
    void reloadLoadsAgain() {
        CliRun r = CliRun.withInput("Hi\n/reload\n/stats\n", "chat", "synthetic:tiny", "--max-tokens", "2", "--greedy");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("(reloaded synthetic:tiny; conversation reset)"), r.toString());
        assertTrue(r.out().contains("no reply yet"), "a reload forgets the last reply's stats:\n" + r);
    }

    @Test
    void templateAndSystemPromptOptions() {
        CliRun r = CliRun.withInput("Hi\n", "chat", "synthetic:tiny", "--template", "ChatML", "--system", "Be brief.", "--max-tokens", "2", "--greedy");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.err().contains("chat template chatml (named by the user)"), r.toString());
    }

    /** Ctrl-C during a reply stops that reply, marks it, and the session goes on. */
    @Test
    void interruptStopsTheReplyAndKeepsTheSession() {
        StringWriter text = new StringWriter();
        ChatSession[] session = new ChatSession[1];
        Writer interruptingOut = new Writer() {
            int pieces;

            @Override
            public void write(char[] c, int off, int len) {
                text.write(c, off, len);
                if (++pieces == 2) session[0].interrupt(); // as the INT signal handler would, mid-reply
            }

            @Override
            public void flush() { }

            @Override
            public void close() { }
        };
        CliContext ctx = CliContext.of(InputStream.nullInputStream(), new PrintWriter(interruptingOut), new PrintWriter(new StringWriter()));
        try (ChatModule cm = ChatModule.load("synthetic:tiny", LoadOptions.defaults())) {
            cm.setMaxReplyTokens(200);
            session[0] = new ChatSession(ctx, cm);
            assertFalse(session[0].interrupt(), "no reply in progress: nothing to stop");
            assertTrue(session[0].handle("Tell me everything"));
            GenerationStats stopped = cm.stats();
            assertTrue(stopped.decodeTokens() < 20, "stopped early: " + stopped);
            assertTrue(text.toString().endsWith(" [stopped]" + System.lineSeparator()), text.toString());
            cm.setMaxReplyTokens(4);
            assertTrue(session[0].handle("And now?"));
            assertFalse(text.toString().endsWith(" [stopped]" + System.lineSeparator()), "the next reply runs to its end:\n" + text);
            assertEquals(2, cm.conversation().stream().filter(m -> m.role().equals("assistant")).count());
            assertFalse(session[0].handle("/exit"));
        }
    }
}
