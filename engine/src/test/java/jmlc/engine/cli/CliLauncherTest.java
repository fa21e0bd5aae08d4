package jmlc.engine.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ./jmlc launcher as a user runs it: a separate process, from any directory, finding Java 25,
 * exit codes, piped chat, Ctrl-C (SIGINT) during a reply, and the message when jmlc is not built.
 * The classes under test are passed as JMLC_CLASSPATH, so no jar needs building first.
 */
class CliLauncherTest {
    static final Path ROOT = CliFixtures.repoRoot();
    static final Path LAUNCHER = ROOT.resolve("jmlc");

    @TempDir
    Path tmp;

    record Ran(int exit, String out, String err) {
        List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n--- out:\n" + out + "\n--- err:\n" + err;
        }
    }

    static ProcessBuilder launcher(Path script, Path cwd, Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(script.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
        pb.environment().put("JMLC_CLASSPATH", System.getProperty("java.class.path"));
        pb.environment().putAll(env);
        pb.environment().entrySet().removeIf(e -> e.getValue().isEmpty());
        return pb;
    }

    static Ran run(Path cwd, Map<String, String> env, String stdin, String... args) throws Exception {
        Process p = launcher(LAUNCHER, cwd, env, args).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        var out = readAsync(p.getInputStream());
        var err = readAsync(p.getErrorStream());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "jmlc " + String.join(" ", args) + " did not finish");
        out.finish();
        err.finish();
        return new Ran(p.exitValue(), out.text(), err.text());
    }

    @Test
    void runsFromAnyDirectoryWithJava25() throws Exception {
        Ran r = run(tmp, Map.of(), "", "--version");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().startsWith("jmlc "), r.toString());
        assertTrue(r.out().contains("Java 25"), r.toString());
        assertEquals("", r.err(), "nothing on stderr: not even the JVM's 'WARNING: Using incubator modules'");
    }

    /** The JVM's incubator notice is dropped, with -q too; the rest of stderr comes through whole, before the exit. */
    @Test
    void noIncubatorNoticeAndStderrEndsBeforeTheExit() throws Exception {
        Ran quiet = run(tmp, Map.of(), "", "-q", "bench", "synthetic:tiny", "--gen", "2", "--runs", "1", "--warmup", "0", "--bandwidth", "1");
        assertEquals(0, quiet.exit(), quiet.toString());
        assertEquals("", quiet.err(), "-q: nothing on stderr");
        // a script's next command runs after jmlc's last line is out, not before it
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "for i in 1 2; do \"$0\" bench synthetic:nope; echo \"exit $?\"; done 2>&1", LAUNCHER.toString())
                .directory(tmp.toFile()).redirectErrorStream(true);
        pb.environment().put("JMLC_CLASSPATH", System.getProperty("java.class.path"));
        Process p = pb.start();
        var out = readAsync(p.getInputStream());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        out.finish();
        List<String> lines = out.text().lines().toList();
        assertEquals(4, lines.size(), out.text());
        for (int i = 0; i < 4; i += 2) {
            assertTrue(lines.get(i).startsWith("jmlc: error: unknown synthetic model 'synthetic:nope'"), out.text());
            assertEquals("exit 2", lines.get(i + 1), out.text());
        }
    }

    @Test
    void skipsAJavaHomeOlderThan25() throws Exception {
        Path old = tmp.resolve("jdk-17");
        Files.createDirectories(old.resolve("bin"));
        Files.writeString(old.resolve("release"), "JAVA_VERSION=\"17.0.12\"\n");
        Path java = Files.writeString(old.resolve("bin/java"), "#!/bin/sh\necho 'the old java ran' >&2\nexit 97\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Ran r = run(tmp, Map.of("JAVA_HOME", old.toString()), "", "--version");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("Java 25"), r.toString());
    }

    @Test
    void usageErrorsAndFailuresKeepTheirExitCodes() throws Exception {
        Ran usage = run(tmp, Map.of(), "", "bench", "synthetic:tiny", "--gen", "0");
        assertEquals(2, usage.exit(), usage.toString());
        assertEquals(List.of("jmlc: error: --gen must be a positive number of tokens, found 0; see 'jmlc bench --help'"), usage.errLines());
        assertEquals("", usage.out());

        Path notAModel = Files.writeString(tmp.resolve("notes.txt"), "hello");
        Ran failure = run(tmp, Map.of(), "", "chat", "notes.txt");
        assertEquals(1, failure.exit(), failure.toString());
        assertEquals("jmlc: error: notes.txt: not a model: expected a directory with config.json and *.safetensors, or a .gguf file",
                failure.errLines().getLast());
        assertFalse(failure.err().contains("\tat "), failure.toString());
        assertTrue(Files.exists(notAModel));
    }

    @Test
    void pipedChat() throws Exception {
        Ran r = run(tmp, Map.of(), "Hello\n/stats\n/exit\n", "chat", "synthetic:tiny", "--max-tokens", "4", "--greedy");
        assertEquals(0, r.exit(), r.toString());
        List<String> out = r.out().lines().toList();
        assertEquals(2, out.size(), r.toString());
        assertTrue(out.get(1).startsWith("prefill: "), r.toString());
        assertFalse(r.err().contains("\r"), "stderr is not a terminal: progress in plain lines");
        assertTrue(r.err().contains("loaded synthetic:tiny"), r.toString());
    }

    /** Ctrl-C sends SIGINT to the JVM (the launcher execs java): the reply stops, the chat goes on. */
    @Test
    void interruptStopsTheReplyNotTheChat() throws Exception {
        ProcessBuilder pb = launcher(LAUNCHER, tmp, Map.of(), "chat", "synthetic:tiny", "--max-tokens", "1500", "--seed", "1");
        // SIGINT as a terminal's user has it: a build started in the background (nohup, '&') passes it on
        // ignored, and a JVM that starts with SIGINT ignored installs no handler for it
        pb.command().addAll(0, List.of("env", "--default-signal=INT"));
        Process p = pb.start();
        var out = readAsync(p.getInputStream());
        var err = readAsync(p.getErrorStream());
        OutputStream in = p.getOutputStream();
        in.write("Tell me a long story\n".getBytes(StandardCharsets.UTF_8));
        in.flush();
        await(out, s -> s.length() > 20, "the reply to start streaming", p, err);
        assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor());
        await(out, s -> s.contains(" [stopped]"), "the reply to stop", p, err);
        in.write("/stats\n/exit\n".getBytes(StandardCharsets.UTF_8));
        in.close();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the chat did not end after /exit\n" + err.text());
        out.finish();
        err.finish();
        assertEquals(0, p.exitValue(), out.text() + "\n" + err.text());
        List<String> lines = out.text().lines().toList();
        assertTrue(lines.getFirst().endsWith(" [stopped]"), out.text());
        assertTrue(lines.get(1).matches("prefill: .*, decode: [0-9.]+ tok/s \\((\\d+) tokens\\)"), out.text());
        int decoded = Integer.parseInt(lines.get(1).replaceAll(".*\\((\\d+) tokens\\)$", "$1"));
        assertTrue(decoded < 1499, "stopped before the limit: " + decoded);
    }

    @Test
    void saysToRunSetupWhenNotBuilt() throws Exception {
        Path copy = Files.copy(LAUNCHER, tmp.resolve("jmlc"));
        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwxr-xr-x"));
        ProcessBuilder pb = launcher(copy, tmp, Map.of(), "demo");
        pb.environment().remove("JMLC_CLASSPATH");
        Process p = pb.start();
        var err = readAsync(p.getErrorStream());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        err.finish();
        assertEquals(1, p.exitValue(), err.text());
        assertEquals("jmlc: error: jmlc is not built (" + tmp.toRealPath().resolve("engine/target/jmlc-engine.jar") + " is missing); run "
                + tmp.toRealPath().resolve("install/setup.sh") + " first", err.text().strip());
    }

    @Test
    void setupScriptHelpAndBadOptions() throws Exception {
        Process help = new ProcessBuilder(ROOT.resolve("install/setup.sh").toString(), "--help").start();
        var out = readAsync(help.getInputStream());
        assertTrue(help.waitFor(30, TimeUnit.SECONDS));
        out.finish();
        assertEquals(0, help.exitValue());
        assertTrue(out.text().contains("install/setup.sh --check"), out.text());
        Process bad = new ProcessBuilder(ROOT.resolve("install/setup.sh").toString(), "--frobnicate").start();
        var err = readAsync(bad.getErrorStream());
        assertTrue(bad.waitFor(30, TimeUnit.SECONDS));
        err.finish();
        assertEquals(2, bad.exitValue());
        assertEquals("setup.sh: unknown option --frobnicate (try --help)", err.text().strip());
        for (String script : new String[] {"install/setup.sh", "install/test.sh", "install/test-deps.sh", "install/install-kernel.sh", "jmlc"}) {
            Process syntax = new ProcessBuilder("bash", "-n", ROOT.resolve(script).toString()).start();
            assertTrue(syntax.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, syntax.exitValue(), script + " parses");
        }
    }

    /**
     * Once jmlc runs, its stderr is the launcher's own again, not the pipe to the filter that drops the
     * JVM's notice: lines come out in order with stdout (through the pipe, 'loaded ...' showed up after a
     * reply had started).
     */
    @Test
    void stderrIsTheLaunchersOwnOnceJmlcRuns() throws Exception {
        Path errFile = tmp.resolve("stderr.txt");
        ProcessBuilder pb = launcher(LAUNCHER, tmp, Map.of(), "chat", "synthetic:tiny", "--max-tokens", "2").redirectError(errFile.toFile());
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) {
            for (int i = 0; i < 600 && !Files.readString(errFile).contains("loaded synthetic:tiny"); i++) Thread.sleep(100);
            assertTrue(Files.readString(errFile).contains("loaded synthetic:tiny"), Files.readString(errFile));
            assertEquals(errFile.toRealPath(), Path.of("/proc/" + p.pid() + "/fd/2").toRealPath(), "jmlc's fd 2");
            in.write("/exit\n".getBytes(StandardCharsets.UTF_8));
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), Files.readString(errFile));
        assertFalse(Files.readString(errFile).contains("WARNING"), Files.readString(errFile));
    }

    /** Maven prints no ANSI colour codes in the set-up's output (Maven 3.8's jansi wrote ESC[0m even with -B -q). */
    @Test
    void mavenPrintsNoColourCodes() throws Exception {
        Process mvn = new ProcessBuilder("mvn", "-B", "-q", "validate").directory(ROOT.toFile()).redirectErrorStream(true).start();
        var out = readAsync(mvn.getInputStream());
        assertTrue(mvn.waitFor(120, TimeUnit.SECONDS));
        out.finish();
        assertEquals(0, mvn.exitValue(), out.text());
        assertFalse(out.text().contains("\u001b"), "escape codes in: " + out.text().replace("\u001b", "ESC"));
    }

    // ---- process plumbing ----

    /** A stream read to its end on a thread of its own. */
    static final class Reader extends Thread {
        private final InputStream in;
        private final StringBuffer text = new StringBuffer();

        Reader(InputStream in) {
            this.in = in;
            setDaemon(true);
        }

        @Override
        public void run() {
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) > 0; ) text.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            } catch (IOException e) {
                text.append("[read failed: ").append(e.getMessage()).append(']');
            }
        }

        String text() {
            return text.toString();
        }

        /** Waits for the end of the stream (at most 30 s). */
        void finish() throws InterruptedException {
            join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    static Reader readAsync(InputStream in) {
        Reader r = new Reader(in);
        r.start();
        return r;
    }

    static void await(Reader r, Predicate<String> done, String what, Process p, Reader err) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!done.test(r.text())) {
            if (!p.isAlive() || System.nanoTime() > end) {
                p.destroyForcibly();
                throw new AssertionError("waited for " + what + "; out:\n" + r.text() + "\nerr:\n" + err.text());
            }
            Thread.sleep(50);
        }
    }
}
