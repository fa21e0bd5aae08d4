package jmlc.engine.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * Where a jmlc command reads and writes: the process's own streams, or a test's. Results go to
 * {@code out}; progress, notes and errors to {@code err}, so {@code out} stays parseable.
 */
final class CliContext {
    final InputStream in;
    final PrintWriter out;
    final PrintWriter err;
    /** stdin and stdout are a terminal: chat uses JLine (line editing, history, Ctrl-C). */
    final boolean terminal;
    /** stderr is a terminal: progress redraws one line with \r instead of printing lines. */
    final boolean errTerminal;
    /** The streams are the process's own, so it may handle signals (Ctrl-C) and open the terminal. */
    final boolean system;
    /** JSON for results; writing does not close {@code out}. */
    final ObjectMapper json = new ObjectMapper().configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
    /** {@code --debug}: errors show their stack trace. */
    boolean debug;
    /** {@code --quiet}: no progress or notes on stderr. */
    boolean quiet;

    CliContext(InputStream in, PrintWriter out, PrintWriter err, boolean terminal, boolean errTerminal, boolean system) {
        this.in = in;
        this.out = out;
        this.err = err;
        this.terminal = terminal;
        this.errTerminal = errTerminal;
        this.system = system;
    }

    /** A test's context: no terminal, no signals. */
    static CliContext of(InputStream in, PrintWriter out, PrintWriter err) {
        return new CliContext(in, out, err, false, false, false);
    }

    /**
     * The process's streams, in UTF-8. Whether stderr is a terminal only the shell knows: the
     * launcher passes {@code -Djmlc.stderr.tty=true} when it is.
     */
    static CliContext system() {
        java.io.Console c = System.console();
        boolean terminal = c != null && c.isTerminal();
        boolean errTerminal = Boolean.parseBoolean(System.getProperty("jmlc.stderr.tty", Boolean.toString(terminal)));
        return new CliContext(System.in, writer(System.out), writer(System.err), terminal, errTerminal, true);
    }

    private static PrintWriter writer(PrintStream s) {
        return new PrintWriter(new OutputStreamWriter(s, StandardCharsets.UTF_8), true);
    }

    /** A note for the user on stderr (what is loading, what was written), unless {@code --quiet}. */
    void note(String line) {
        if (quiet) return;
        err.println(line);
        err.flush();
    }
}
