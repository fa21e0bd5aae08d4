package jmlc.engine.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model path with non-ASCII characters under a locale whose charset is not UTF-8 (LANG=C): Java
 * decodes its arguments and encodes file names in the locale's charset, so such a path could not
 * even be named (issue 14). The launcher runs Java with UTF-8 for characters; Java run directly
 * says what to do.
 */
class CliUnicodePathTest {
    @TempDir
    Path tmp;

    private Path tokenizerInUnicodeDir() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("模型 ü"));
        return Files.copy(CliFixtures.llama2Tokenizer().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
    }

    @Test
    void theLauncherNamesAUnicodePathUnderLangC() throws Exception {
        Path tok = tokenizerInUnicodeDir();
        CliLauncherTest.Ran utf8 = CliLauncherTest.run(tmp, Map.of("LC_ALL", "C.UTF-8"), "", "tokenize", "--no-special", tok.toString(), "Hello");
        assertEquals(0, utf8.exit(), utf8.toString());
        for (Map<String, String> env : List.of(Map.of("LANG", "C", "LC_ALL", "", "LC_CTYPE", ""), Map.of("LANG", "C", "LC_ALL", "C"),
                Map.of("LANG", "", "LC_ALL", "POSIX", "LC_CTYPE", ""))) {
            CliLauncherTest.Ran r = CliLauncherTest.run(tmp, env, "", "tokenize", "--no-special", tok.toString(), "Hello");
            assertEquals(0, r.exit(), env + ": " + r);
            assertEquals(utf8.out(), r.out(), env + ": " + r);
        }
    }

    @Test
    void javaWithoutAUtf8LocaleSaysWhatToDo() throws Exception {
        Path tok = tokenizerInUnicodeDir();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "jmlc.engine.cli.Main", "tokenize", tok.toString(), "Hello");
        pb.environment().put("LC_ALL", "C");
        pb.environment().put("LANG", "C");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), out);
        assertTrue(out.contains("ANSI_X3.4-1968") && out.contains("LC_ALL=C.UTF-8"), out);
    }
}
