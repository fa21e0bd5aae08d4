package jmlc.engine.cli;

import jmlc.engine.api.ChatModule;
import jmlc.engine.generate.Generator;
import jmlc.engine.generate.GenerationStats;

import java.util.Locale;

/**
 * One chat, line by line: a line is a message, or a command (/help, /exit, /stats, /reset,
 * /system TEXT, /reload [MODEL]). Replies stream to {@code out}; errors are printed and the
 * session goes on. {@link #interrupt()} (Ctrl-C) stops the reply in progress.
 */
final class ChatSession {
    static final String HELP = """
            /help            this list
            /exit, /quit     leave (Ctrl-D too)
            /stats           speed of the last reply
            /reset           forget the conversation
            /system TEXT     set the system prompt and start over (/system alone clears it)
            /reload [MODEL]  load the model again, or another one (same options); the conversation starts over
            Ctrl-C stops a reply; the conversation keeps what was said.""";

    private final CliContext ctx;
    private final ChatModule cm;
    private volatile boolean replying;
    private volatile boolean interrupted;
    /** Lines handled, and those that failed (a message without a reply, a /reload that did not load). */
    private int lines, failed;

    ChatSession(CliContext ctx, ChatModule cm) {
        this.ctx = ctx;
        this.cm = cm;
    }

    /** Handles one line of input; false when the session should end. */
    boolean handle(String line) {
        String text = line.strip();
        if (text.isEmpty()) return true;
        lines++;
        if (!text.startsWith("/")) {
            reply(text);
            return true;
        }
        String[] parts = text.split("\\s+", 2);
        String arg = parts.length > 1 ? parts[1].strip() : "";
        switch (parts[0].toLowerCase(Locale.ROOT)) {
            case "/exit", "/quit", "/bye" -> {
                return false;
            }
            case "/help", "/?" -> ctx.out.println(HELP);
            case "/stats" -> ctx.out.println(stats(cm.stats()));
            case "/reset" -> {
                cm.resetChat();
                ctx.out.println("(conversation reset)");
            }
            case "/system" -> {
                cm.setSystemPrompt(arg);
                cm.resetChat();
                ctx.out.println(arg.isEmpty() ? "(system prompt cleared; conversation reset)" : "(system prompt set; conversation reset)");
            }
            case "/reload" -> reload(arg);
            default -> ctx.out.println("unknown command " + parts[0] + "; /help lists the commands");
        }
        ctx.out.flush();
        return true;
    }

    private void reply(String message) {
        interrupted = false;
        replying = true;
        boolean[] started = {false};
        try {
            cm.chat(message, piece -> {
                if (!started[0]) piece = piece.stripLeading(); // the reply starts at its first word
                if (piece.isEmpty()) return;
                started[0] = true;
                ctx.out.print(piece);
                ctx.out.flush();
            });
        } catch (RuntimeException e) {
            failed++;
            ctx.out.println();
            ctx.out.flush();
            ctx.err.println("error: " + Errors.message(e));
            if (ctx.debug) e.printStackTrace(ctx.err);
            ctx.err.flush();
            return;
        } finally {
            replying = false;
        }
        boolean full = cm.stopReason() == Generator.StopReason.CONTEXT_FULL;
        ctx.out.println(interrupted ? " [stopped]" : full ? " [the context window is full: /reset starts over]" : "");
        ctx.out.flush();
    }

    private void reload(String arg) {
        String spec = arg.isEmpty() ? cm.model().spec() : arg;
        try {
            ModelOptions.checkModel(spec);
            ProgressBar bar = new ProgressBar(ctx);
            long t0 = System.nanoTime();
            cm.reload(spec, cm.options(), bar);
            bar.finish(ModelOptions.describe(cm.model(), System.nanoTime() - t0));
            ctx.out.println("(reloaded " + spec + "; conversation reset)");
        } catch (IllegalArgumentException | IllegalStateException | jmlc.engine.format.tensor.ModelFormatException e) {
            failed++;
            ctx.err.println("error: " + Errors.message(e) + " (still chatting with " + cm.model().spec() + ")");
            ctx.err.flush();
        }
    }

    /** Ctrl-C: stops the reply in progress after its current token; true if there was one. */
    boolean interrupt() {
        if (!replying) return false;
        interrupted = true;
        cm.cancel();
        return true;
    }

    boolean replying() {
        return replying;
    }

    /** How many lines failed (messages without a reply, reloads that did not load), of how many handled; null when none failed. */
    String failures() {
        return failed == 0 ? null : failed + " of " + lines + (lines == 1 ? " line" : " lines") + " failed (the errors are above)";
    }

    static String stats(GenerationStats s) {
        if (s.equals(GenerationStats.NONE)) return "no reply yet";
        return String.format(Locale.ROOT, "prefill: %.1f tok/s (%d tokens), decode: %.1f tok/s (%d tokens)",
                s.prefillTokensPerSecond(), s.prefillTokens(), s.decodeTokensPerSecond(), s.decodeTokens());
    }
}
