package jmlc.jupyter;

import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.ExpressionSnippet;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.SourceCodeAnalysis.Completeness;
import jdk.jshell.UnresolvedReferenceException;
import jdk.jshell.VarSnippet;
import jmlc.magics.core.JavaValue;

import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Java cells, evaluated by JShell inside the kernel's JVM: a cell may hold several statements and
 * declarations; they run in order, the first failure stops the cell, and the value of the last
 * expression is its result, as a real object. Also completion, documentation and completeness, on
 * the snippet under the cursor. Knows nothing of Jupyter or magics.
 */
public final class JavaShell implements AutoCloseable {

    /** Imported before the first cell. */
    static final List<String> DEFAULT_IMPORTS = List.of(
            "java.util.*", "java.util.function.*", "java.util.stream.*", "java.util.concurrent.*",
            "java.io.*", "java.nio.file.*", "java.math.*",
            "jmlc.magics.*", "jmlc.magics.core.*", "static jmlc.magics.core.Display.display");

    /** Completion candidates replacing {@code code[start, end)}. */
    public record Completion(List<String> matches, int start, int end) {}

    /** Jupyter's is_complete answer: "complete", "incomplete" (with an indent), "invalid". */
    public record IsComplete(String status, String indent) {}

    private final JShell jshell;
    private final InProcessExecution execution;
    private final SourceCodeAnalysis analysis;
    private final List<String> classpath = new ArrayList<>();
    private final Consumer<String> notes;
    /** Snippet id -> the 1-based cell line its first line is on, for stack traces. */
    private final Map<String, Integer> snippetLines = new HashMap<>();
    private volatile boolean stopRequested;
    private volatile boolean evaluating;

    /**
     * @param classpath jars and folders cells compile against (the kernel's own classpath, usually)
     * @param notes     receives remarks that are not errors, e.g. "class A waits for B"
     */
    public JavaShell(List<String> classpath, Consumer<String> notes) {
        this.notes = notes;
        var provider = new InProcessExecution.Provider();
        ClassLoader contextLoader = Thread.currentThread().getContextClassLoader();
        try {
            this.jshell = JShell.builder()
                    .executionEngine(provider, Map.of())
                    .compilerOptions("--add-modules", "jdk.incubator.vector", "-Xlint:none")
                    .build();
        } finally {
            Thread.currentThread().setContextClassLoader(contextLoader); // JShell's loader set it to its own
        }
        this.execution = provider.created();
        this.analysis = jshell.sourceCodeAnalysis();
        for (String entry : classpath) addToClasspath(entry);
        for (String imp : DEFAULT_IMPORTS) {
            var events = jshell.eval("import " + imp + ";");
            if (events.isEmpty() || events.getFirst().status() != Snippet.Status.VALID) {
                throw new IllegalStateException("default import failed: " + imp + " (is jmlc-magics on the classpath?)");
            }
        }
    }

    /** This JVM's classpath, entry by entry. */
    public static List<String> processClasspath() {
        var entries = new ArrayList<String>();
        for (String e : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            if (!e.isBlank()) entries.add(e);
        }
        return entries;
    }

    public List<String> classpath() {
        return List.copyOf(classpath);
    }

    public void addToClasspath(String path) {
        jshell.addToClasspath(path);
        classpath.add(path);
    }

    // ---- evaluation -------------------------------------------------------------------------

    /**
     * Runs the snippets of {@code code} in order.
     *
     * @param firstLine the 0-based line of the cell on which {@code code} starts, for messages
     * @return the last snippet's value if it is an expression, else null
     * @throws CellError on a compile error, an exception, or an interrupt; earlier snippets stay done
     */
    public JavaValue eval(String code, int firstLine) {
        evaluating = true;
        try {
            return evalSnippets(code, firstLine);
        } finally {
            evaluating = false;
        }
    }

    private JavaValue evalSnippets(String code, int firstLine) {
        JavaValue last = null;
        String remaining = code;
        int offset = 0;
        while (!remaining.isBlank()) {
            if (stopRequested) throw interrupted();
            var info = analysis.analyzeCompletion(remaining);
            if (info.completeness() == Completeness.EMPTY) break;
            String source = info.source() != null ? info.source() : remaining;
            String rest = info.source() != null ? info.remaining() : "";
            // JShell numbers a snippet's lines from its first token, after blanks and comments
            int snippetLine = firstLine + lineOf(code, firstToken(code, offset)) + 1;

            last = null;
            for (SnippetEvent event : jshell.eval(source)) {
                if (event.causeSnippet() != null) continue; // a dependent snippet changed status
                Snippet snippet = event.snippet();
                snippetLines.put(snippet.id(), snippetLine);
                if (stopRequested) throw interrupted();
                switch (event.status()) {
                    case REJECTED -> throw compileError(snippet, code, offset, firstLine);
                    case RECOVERABLE_DEFINED, RECOVERABLE_NOT_DEFINED -> notes.accept(unresolvedNote(snippet));
                    default -> { }
                }
                if (event.exception() != null) throw runtimeError(event.exception());
                last = valueOf(event);
            }
            offset += remaining.length() - rest.length();
            remaining = rest;
        }
        return last;
    }

    /**
     * Asks the running snippet to stop (from another thread): loops end, sleeps and waits are
     * interrupted, and the cell's later snippets do not start. JShell can only stop user code that
     * is running, so the request is repeated while this cell is still evaluating (it may be
     * compiling the next snippet right now).
     */
    public void stop() {
        stopRequested = true;
        execution.requestStop(true);
        jshell.stop();
        Thread.ofPlatform().daemon().name("jmlc-stop").start(() -> {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (stopRequested && evaluating && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
                if (stopRequested && evaluating) jshell.stop();
            }
        });
    }

    /** Forgets a stop request, before the next cell. */
    public void clearStop() {
        stopRequested = false;
        execution.requestStop(false);
    }

    private JavaValue valueOf(SnippetEvent event) {
        Snippet snippet = event.snippet();
        VarSnippet variable = switch (snippet.subKind()) {
            case TEMP_VAR_EXPRESSION_SUBKIND -> (VarSnippet) snippet;
            case VAR_VALUE_SUBKIND -> {
                String name = ((ExpressionSnippet) snippet).name();
                yield jshell.variables().filter(v -> v.name().equals(name)).reduce((a, b) -> b).orElse(null);
            }
            default -> null;
        };
        if (variable == null) return null;
        Object object;
        try {
            object = execution.valueOf(() -> jshell.varValue(variable));
        } catch (IllegalArgumentException | IllegalStateException e) {
            object = null;
        }
        return new JavaValue(object, event.value(), variable.typeName());
    }

    private static CellError interrupted() {
        return new CellError("Interrupted", "the cell was interrupted", List.of("Interrupted: the cell was stopped by the user."));
    }

    // ---- errors -----------------------------------------------------------------------------

    private CellError compileError(Snippet snippet, String code, int offset, int firstLine) {
        String[] lines = code.split("\n", -1);
        var traceback = new ArrayList<String>();
        String summary = null;
        for (Diag diag : jshell.diagnostics(snippet).filter(Diag::isError).toList()) {
            String message = diag.getMessage(Locale.ROOT);
            int start = (int) Math.max(0, diag.getStartPosition());
            int end = (int) Math.max(start, diag.getEndPosition());
            int at = Math.min(code.length(), offset + start);
            int line = lineOf(code, at);
            int column = at - (code.lastIndexOf('\n', at - 1) + 1);
            int width = Math.max(1, Math.min(end - start, lines[line].length() - column));
            String where = "line " + (firstLine + line + 1);
            if (summary == null) summary = where + ": " + message;
            traceback.add("Compile error at " + where + ":");
            traceback.add("    " + lines[line]);
            traceback.add("    " + " ".repeat(Math.max(0, column)) + "^" + (width > 1 ? "-".repeat(width - 2) + "^" : ""));
            for (String m : message.split("\n")) {
                if (!m.matches("\\s*location: class\\s*")) traceback.add(m); // JShell's wrapper class has no name
            }
        }
        if (summary == null) {
            summary = "the snippet was rejected: " + snippet.source().strip();
            traceback.add("Compile error: " + summary);
        }
        return new CellError("CompileError", summary, traceback);
    }

    private CellError runtimeError(JShellException exception) {
        if (exception instanceof UnresolvedReferenceException unresolved) {
            String message = unresolvedNote(unresolved.getSnippet());
            return new CellError("UnresolvedReference", message, List.of(message));
        }
        var traceback = new ArrayList<String>();
        String name = exception instanceof EvalException e ? e.getExceptionClassName() : exception.getClass().getName();
        String message = exception.getMessage() == null ? "" : exception.getMessage();
        appendTrace(traceback, exception, name, message, "");
        return new CellError(name, message, traceback);
    }

    private static final int MAX_FRAMES = 12;

    private void appendTrace(List<String> out, Throwable t, String name, String message, String prefix) {
        out.add(prefix + name + (message.isEmpty() ? "" : ": " + message));
        StackTraceElement[] frames = t.getStackTrace();
        int shown = Math.min(frames.length, MAX_FRAMES);
        for (int i = 0; i < shown; i++) out.add("    at " + frame(frames[i]));
        if (frames.length > shown) out.add("    ... " + (frames.length - shown) + " more");
        if (t.getCause() instanceof EvalException cause) {
            appendTrace(out, cause, cause.getExceptionClassName(), cause.getMessage() == null ? "" : cause.getMessage(), "Caused by: ");
        }
    }

    /** Cell frames read "f(line 3)"; JShell writes them ".f(#12:1)" (snippet 12, its line 1). */
    private String frame(StackTraceElement f) {
        String file = f.getFileName();
        if (file != null && file.startsWith("#")) {
            Integer first = snippetLines.get(file.substring(1));
            String method = f.getMethodName().isEmpty() ? "<cell>" : f.getMethodName();
            String cls = f.getClassName().isEmpty() ? "" : f.getClassName() + ".";
            String where = first == null ? "snippet " + file : "line " + (first + Math.max(0, f.getLineNumber() - 1));
            return cls + method + "(" + where + ")";
        }
        return f.toString();
    }

    private String unresolvedNote(Snippet snippet) {
        List<String> missing = jshell.unresolvedDependencies((jdk.jshell.DeclarationSnippet) snippet).toList();
        String what = switch (snippet) {
            case jdk.jshell.TypeDeclSnippet t -> "class " + t.name();
            case jdk.jshell.MethodSnippet m -> "method " + m.name() + "(" + m.parameterTypes() + ")";
            case VarSnippet v -> "variable " + v.name();
            default -> snippet.source().strip();
        };
        return what + " is declared, but cannot be used until " + String.join(", ", missing) + " is declared.";
    }

    /** The offset of the first character at or after {@code from} that is neither blank nor in a comment. */
    static int firstToken(String code, int from) {
        int i = from;
        while (i < code.length()) {
            if (Character.isWhitespace(code.charAt(i))) {
                i++;
            } else if (code.startsWith("//", i)) {
                int end = code.indexOf('\n', i);
                i = end < 0 ? code.length() : end + 1;
            } else if (code.startsWith("/*", i)) {
                int end = code.indexOf("*/", i + 2);
                i = end < 0 ? code.length() : end + 2;
            } else {
                break;
            }
        }
        return i;
    }

    private static int lineOf(String text, int offset) {
        int line = 0;
        for (int i = 0; i < Math.min(offset, text.length()); i++) if (text.charAt(i) == '\n') line++;
        return line;
    }

    // ---- completion, documentation, completeness -------------------------------------------

    /** Start offset of the snippet the cursor is in. */
    private int snippetStart(String code, int cursor) {
        int start = 0;
        String remaining = code;
        while (!remaining.isBlank()) {
            var info = analysis.analyzeCompletion(remaining);
            if (info.source() == null || info.completeness() == Completeness.EMPTY) break;
            int end = code.length() - info.remaining().length();
            if (end >= cursor) break;
            start = end;
            remaining = info.remaining();
        }
        return start;
    }

    public Completion complete(String code, int cursor) {
        int start = snippetStart(code, cursor);
        int[] anchor = new int[1];
        var matches = new LinkedHashSet<String>();
        for (var s : analysis.completionSuggestions(code.substring(start, cursor), cursor - start, anchor)) {
            matches.add(s.continuation());
        }
        return new Completion(List.copyOf(matches), start + anchor[0], cursor);
    }

    /** Signature and javadoc of what is at the cursor (a method before its '(' works too), or empty. */
    public Optional<String> inspect(String code, int cursor) {
        int start = snippetStart(code, cursor);
        String snippet = code.substring(start);
        int at = cursor - start;
        int end = at;
        while (end < snippet.length() && Character.isJavaIdentifierPart(snippet.charAt(end))) end++;
        String head = snippet.substring(0, end);
        List<SourceCodeAnalysis.Documentation> docs = analysis.documentation(head + "(", end + 1, true);
        if (docs.isEmpty()) docs = analysis.documentation(snippet, at, true);
        if (docs.isEmpty()) docs = analysis.documentation(head, end, true);
        if (docs.isEmpty()) return Optional.empty();
        var sb = new StringBuilder();
        for (var doc : docs) {
            if (!sb.isEmpty()) sb.append("\n\n");
            sb.append(doc.signature());
            if (doc.javadoc() != null && !doc.javadoc().isBlank()) sb.append("\n\n").append(plainJavadoc(doc.javadoc()));
        }
        return Optional.of(sb.toString());
    }

    /** Javadoc as readable text: {@code x} and {@link y} unwrapped, HTML tags dropped. */
    static String plainJavadoc(String javadoc) {
        return javadoc
                .replaceAll("\\{@(?:code|literal|linkplain|link|value)\\s+([^}]*)}", "$1")
                .replaceAll("</?(p|i|b|em|strong|code|pre|ul|ol|li|a[^>]*)>", "")
                .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
                .replaceAll("(?m)^ ", "")
                .strip();
    }

    public IsComplete isComplete(String code) {
        String remaining = code;
        while (!remaining.isBlank()) {
            var info = analysis.analyzeCompletion(remaining);
            switch (info.completeness()) {
                case EMPTY -> {
                    return new IsComplete("complete", "");
                }
                case COMPLETE, COMPLETE_WITH_SEMI -> remaining = info.remaining();
                case DEFINITELY_INCOMPLETE, CONSIDERED_INCOMPLETE -> {
                    return new IsComplete("incomplete", "    ");
                }
                case UNKNOWN -> {
                    return new IsComplete("invalid", "");
                }
            }
        }
        return new IsComplete("complete", "");
    }

    @Override
    public void close() {
        jshell.close();
    }
}
