package jmlc.engine.cli;

import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.Signals;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where chat lines come from: a terminal (JLine: line editing, history kept across sessions,
 * Ctrl-C), or any stream, one message per line, so chats can be scripted and tested.
 */
sealed interface LineInput extends AutoCloseable {

    /** The next line, or null at the end of input (Ctrl-D, end of the stream). */
    String readLine();

    /** Runs {@code task}, with Ctrl-C calling {@code onInterrupt} instead of ending the process, where signals reach us. */
    void interruptible(Runnable onInterrupt, Runnable task);

    @Override
    void close();

    static LineInput open(CliContext ctx) {
        return ctx.terminal && ctx.system ? new Console(ctx) : new Plain(ctx);
    }

    /** A terminal, through JLine. */
    final class Console implements LineInput {
        private final CliContext ctx;
        private final Terminal terminal;
        private final LineReader reader;

        Console(CliContext ctx) {
            this.ctx = ctx;
            try {
                this.terminal = TerminalBuilder.builder().system(true).encoding(StandardCharsets.UTF_8).build();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open the terminal", e);
            }
            LineReaderBuilder b = LineReaderBuilder.builder().terminal(terminal).appName("jmlc");
            Path history = historyFile();
            if (history != null) b.variable(LineReader.HISTORY_FILE, history);
            this.reader = b.build();
        }

        /** $XDG_STATE_HOME/jmlc/chat_history (~/.local/state/jmlc/chat_history); null if it cannot be made. */
        private static Path historyFile() {
            String state = System.getenv("XDG_STATE_HOME");
            Path dir = state != null && !state.isBlank() ? Path.of(state) : Path.of(System.getProperty("user.home"), ".local", "state");
            try {
                return Files.createDirectories(dir.resolve("jmlc")).resolve("chat_history");
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        @Override
        public String readLine() {
            while (true) {
                try {
                    return reader.readLine(">>> ");
                } catch (UserInterruptException e) {
                    if (e.getPartialLine().isEmpty()) {
                        ctx.out.println("(Ctrl-D or /exit leaves)");
                        ctx.out.flush();
                    }
                } catch (EndOfFileException e) {
                    return null;
                }
            }
        }

        @Override
        public void interruptible(Runnable onInterrupt, Runnable task) {
            Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, s -> onInterrupt.run());
            try {
                task.run();
            } finally {
                terminal.handle(Terminal.Signal.INT, previous);
            }
        }

        @Override
        public void close() {
            try {
                terminal.close();
            } catch (IOException e) {
                // the terminal is restored as far as it can be; nothing to tell the user
            }
        }
    }

    /** Any input stream, one message per line (UTF-8). */
    final class Plain implements LineInput {
        private final CliContext ctx;
        private final BufferedReader reader;

        Plain(CliContext ctx) {
            this.ctx = ctx;
            this.reader = new BufferedReader(new InputStreamReader(ctx.in, StandardCharsets.UTF_8));
        }

        @Override
        public String readLine() {
            try {
                return reader.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read stdin", e);
            }
        }

        @Override
        public void interruptible(Runnable onInterrupt, Runnable task) {
            if (!ctx.system) {
                task.run();
                return;
            }
            Object previous = Signals.register("INT", onInterrupt);
            try {
                task.run();
            } finally {
                Signals.unregister("INT", previous);
            }
        }

        @Override
        public void close() {
            // stdin stays open: it is not ours to close
        }
    }
}
