package jmlc.engine.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * How failures reach the user: one line on stderr, {@code jmlc: error: ...}, naming the option,
 * file or value at fault; exit code 2 for usage errors (bad options, unknown model or device) and
 * 1 for failures (a model that cannot be read, a generation that cannot run). {@code --debug}
 * adds the stack trace.
 */
final class Errors {
    private Errors() {}

    static final int USAGE = 2;
    static final int FAILURE = 1;

    /** Picocli's parse errors and the {@link CommandLine.ParameterException}s commands throw after checking values. */
    static int usage(CliContext ctx, CommandLine.ParameterException e) {
        String msg = lowerFirst(e.getMessage().replaceFirst("^Error: ", ""));
        if (e instanceof CommandLine.UnmatchedArgumentException u) {
            List<String> unmatched = u.getUnmatched();
            boolean command = u.getCommandLine() != null && !u.getCommandLine().getSubcommands().isEmpty()
                    && !unmatched.isEmpty() && !unmatched.getFirst().startsWith("-");
            if (command) msg = "unknown command '" + unmatched.getFirst() + "'";
            if (!u.getSuggestions().isEmpty())
                msg += " (did you mean " + String.join(" or ", u.getSuggestions().stream().limit(3).toList()) + "?)";
        }
        String cmd = e.getCommandLine() == null ? "jmlc" : e.getCommandLine().getCommandSpec().qualifiedName();
        msg += "; see '" + cmd + " --help'";
        print(ctx, msg, e);
        return USAGE;
    }

    /** Anything a command throws: expected failures by their message, others as an internal error. */
    static int failure(CliContext ctx, Throwable e) {
        // picocli wraps Errors (out of memory ...) thrown by a command in an ExecutionException
        Throwable t = e instanceof CommandLine.ExecutionException && e.getCause() != null ? e.getCause() : e;
        print(ctx, message(t), t);
        return FAILURE;
    }

    /** What went wrong with a file, in words: "permission denied", "not a directory" ... (Java's own messages are often only the path). */
    static String reason(IOException e) {
        if (e instanceof java.nio.file.AccessDeniedException) return "permission denied";
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) return lowerFirst(f.getReason());
        if (e instanceof java.nio.file.NoSuchFileException f)
            return "no such file or directory" + (f.getFile() != null && f.getFile().equals(e.getMessage()) ? "" : ": " + e.getMessage());
        if (e instanceof java.nio.file.FileAlreadyExistsException) return "a file of that name exists";
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    static String message(Throwable e) {
        if (e instanceof OutOfMemoryError)
            return "out of memory (" + e.getMessage() + "): give Java more with JMLC_JAVA_OPTS=-Xmx16g, or use a smaller model, --max-context or --quant";
        if (e instanceof UncheckedIOException u && u.getCause() != null) return u.getMessage() + ": " + u.getCause().getMessage();
        if (expected(e)) return e.getMessage();
        return "internal error: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())
                + " (please report it, with the output of --debug)";
    }

    /** Failures whose message says all a user needs: bad files, bad values, full context windows. */
    private static boolean expected(Throwable e) {
        return e.getMessage() != null && (e instanceof IllegalArgumentException || e instanceof IllegalStateException
                || e instanceof IOException || e instanceof UnsupportedOperationException
                || e instanceof jmlc.engine.format.tensor.ModelFormatException || e instanceof jmlc.engine.generate.ContextWindowException);
    }

    private static void print(CliContext ctx, String msg, Throwable e) {
        String[] lines = msg.strip().split("\\R", 2);
        String line = lines[0] + (lines.length > 1 && !ctx.debug ? " (more with --debug)" : "");
        ctx.out.flush();
        ctx.err.println("jmlc: error: " + line);
        if (ctx.debug) e.printStackTrace(ctx.err);
        ctx.err.flush();
    }

    private static String lowerFirst(String s) {
        if (s == null || s.isEmpty()) return "bad arguments";
        if (s.length() > 1 && Character.isUpperCase(s.charAt(0)) && Character.isLowerCase(s.charAt(1)))
            return Character.toLowerCase(s.charAt(0)) + s.substring(1);
        return s;
    }
}
