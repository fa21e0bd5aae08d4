package jmlc.engine.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's second command works on a machine where only the first ran: install/test.sh installs
 * what the tests need (install/test-deps.sh). Here on a PATH of stand-ins for dpkg, apt-get and the
 * tools, so the test installs nothing: which packages does it ask apt-get for?
 */
class InstallScriptsTest {
    static final Path ROOT = CliFixtures.repoRoot();

    @TempDir
    Path tmp;

    record Ran(int exit, String output, List<String> aptCalls) {}

    /** Runs test-deps.sh with {@code missing} packages not installed and only {@code tools} on the PATH. */
    Ran testDeps(Set<String> missing, Set<String> tools, String... args) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path log = tmp.resolve("apt.log");
        script(bin.resolve("dpkg"), "for p in " + String.join(" ", missing) + "; do [[ \"$2\" == \"$p\" ]] && exit 1; done; exit 0");
        script(bin.resolve("apt-get"), "echo \"$*\" >> " + log);
        for (String t : tools) script(bin.resolve(t), "exit 0");
        var cmd = new java.util.ArrayList<>(List.of("/bin/bash", ROOT.resolve("install/test-deps.sh").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PATH", bin.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new Ran(p.exitValue(), out, Files.exists(log) ? Files.readAllLines(log) : List.of());
    }

    private static void script(Path file, String body) throws IOException {
        Files.writeString(file, "#!/bin/bash\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void installsWhatIsMissingAndOnlyThat() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "the stand-in apt-get is called directly as root (else through sudo)");
        Ran r = testDeps(Set.of("jupyter-console", "chromium-driver"), Set.of("mvn", "npm"));
        assertEquals(0, r.exit(), r.output());
        assertEquals(List.of("update -qq", "install -y -qq jupyter-console chromium-driver hipcc"), r.aptCalls(), r.output());
        assertTrue(r.output().contains("test-deps: installed jupyter-console chromium-driver hipcc"), r.output());
    }

    @Test
    void nothingMissingInstallsNothing() throws Exception {
        Ran r = testDeps(Set.of(), Set.of("mvn", "npm", "hipcc"));
        assertEquals(0, r.exit(), r.output());
        assertEquals(List.of(), r.aptCalls());
        assertEquals("test-deps: all there", r.output().strip());
    }

    @Test
    void checkOnlySays() throws Exception {
        Ran r = testDeps(Set.of("python3-selenium"), Set.of("hipcc"), "--check");
        assertEquals(1, r.exit(), r.output());
        assertEquals(List.of(), r.aptCalls(), "--check installs nothing");
        assertEquals("test-deps: missing: python3-selenium maven nodejs npm", r.output().strip());
    }

    /** test.sh installs before it tests, and CI runs test.sh itself, nothing more: the README's command is CI's. */
    @Test
    void testShInstallsFirstAndCiRunsIt() throws IOException {
        String test = Files.readString(ROOT.resolve("install/test.sh"));
        int deps = test.indexOf("\ninstall/test-deps.sh\n"), fixtures = test.indexOf("\ninstall/fetch-tokenizers.sh\n");
        assertTrue(deps > 0 && deps < fixtures, "test.sh runs install/test-deps.sh before its first test");
        String ci = Files.readString(ROOT.resolve(".ci/run"));
        assertTrue(ci.contains("exec install/test.sh") && !ci.contains("apt-get"), ".ci/run installs nothing test.sh would not:\n" + ci);
    }
}
