package jmlc.engine.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What README.md tells a new user stays true: no jargon for the benchmark, and a Java API section one can follow. */
class ReadmeTest {
    static final Path ROOT = CliFixtures.repoRoot();

    static String readme() throws Exception {
        return Files.readString(ROOT.resolve("README.md"));
    }

    /** The section between "From Java" and "From Jupyter". */
    static String javaSection() throws Exception {
        String r = readme();
        return r.substring(r.indexOf("From Java"), r.indexOf("From Jupyter"));
    }

    @Test
    void theBenchmarkProtocolIsSaidNotNamed() throws Exception {
        assertFalse(readme().contains("seed's protocol"), "'the seed's protocol' means nothing to a reader: say what it is");
        assertTrue(readme().contains("batch 1, a 1-token prompt, 512 decoded tokens"), "the README says what jmlc bench measures");
    }

    /** The coordinates, the class path and every JVM option the launcher needs for the engine. */
    @Test
    void theJavaApiSectionGivesCoordinatesClassPathAndJvmOptions() throws Exception {
        String section = javaSection();
        String pom = Files.readString(ROOT.resolve("pom.xml"));
        Matcher version = Pattern.compile("<artifactId>jmlc-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(version.find());
        assertTrue(section.contains("`dev.jmlc:jmlc-engine:" + version.group(1) + "`"), "Maven coordinates:\n" + section);
        assertTrue(section.contains("engine/target/jmlc-engine.jar") && section.contains("engine/target/lib/*"), "the class path:\n" + section);
        String launcher = Files.readString(ROOT.resolve("jmlc"));
        Matcher options = Pattern.compile("(--add-modules[= ]jdk\\.incubator\\.vector|--enable-native-access=ALL-UNNAMED)").matcher(launcher);
        int found = 0;
        while (options.find()) {
            found++;
            assertTrue(section.contains(options.group(1).replace('=', ' ')) || section.contains(options.group(1)), options.group(1) + " in:\n" + section);
        }
        assertEquals(2, found, "the launcher's JVM options");
    }

    /** The section's Java example compiles against the engine as it is. */
    @Test
    void theJavaExampleCompiles(@TempDir Path tmp) throws Exception {
        Matcher block = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(javaSection());
        assertTrue(block.find(), "a Java example");
        StringBuilder imports = new StringBuilder(), body = new StringBuilder();
        for (String line : block.group(1).split("\\n")) (line.startsWith("import ") ? imports : body).append(line).append('\n');
        Path file = tmp.resolve("Hello.java");
        Files.writeString(file, imports + "class Hello {\n    public static void main(String[] args) {\n" + body + "    }\n}\n");
        var errors = new ByteArrayOutputStream();
        int rc = ToolProvider.getSystemJavaCompiler().run(null, errors, errors,
                "-d", tmp.toString(), "-cp", System.getProperty("java.class.path"), "--add-modules", "jdk.incubator.vector", file.toString());
        assertEquals(0, rc, "the README's example:\n" + Files.readString(file) + "\n" + errors);
    }
}
