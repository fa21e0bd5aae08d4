package jmlc.jupyter;

import java.util.List;

/**
 * A cell failed in a way already put into words for the user: a compile error with its line, an
 * exception with a trimmed stack trace, a magic's complaint. The kernel sends it as Jupyter's error
 * (ename, evalue, traceback); magics that run code ({@code %time}) just let it pass.
 *
 * @param name      short kind, Jupyter's ename: "CompileError", "java.lang.IllegalStateException", "MagicError"
 * @param value     one-line summary, Jupyter's evalue
 * @param traceback what the notebook shows, one string per line, plain text (the kernel adds colour)
 */
public final class CellError extends RuntimeException {

    private final String name;
    private final String value;
    private final List<String> traceback;

    public CellError(String name, String value, List<String> traceback) {
        super(name + ": " + value, null, false, false);
        this.name = name;
        this.value = value;
        this.traceback = List.copyOf(traceback);
    }

    public String name() {
        return name;
    }

    public String value() {
        return value;
    }

    public List<String> traceback() {
        return traceback;
    }
}
