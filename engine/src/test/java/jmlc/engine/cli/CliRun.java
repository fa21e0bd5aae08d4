package jmlc.engine.cli;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** Runs the CLI in this process, as picocli would from main, with captured output. */
record CliRun(int exit, String out, String err) {

    static CliRun run(String... args) {
        return withInput("", args);
    }

    static CliRun withInput(String stdin, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CliContext ctx = CliContext.of(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), new PrintWriter(out, true), new PrintWriter(err, true));
        int code = Main.run(ctx, args);
        return new CliRun(code, out.toString(), err.toString());
    }

    List<String> errLines() {
        return Arrays.stream(err.split("\\R")).filter(l -> !l.isBlank()).toList();
    }

    List<String> outLines() {
        return Arrays.stream(out.split("\\R")).filter(l -> !l.isBlank()).toList();
    }

    /** The lines of stderr that report an error (progress lines before it aside). */
    List<String> errorLines() {
        return errLines().stream().filter(l -> l.startsWith("jmlc: error: ")).toList();
    }

    @Override
    public String toString() {
        return "exit " + exit + "\n--- out:\n" + out + "\n--- err:\n" + err;
    }
}
