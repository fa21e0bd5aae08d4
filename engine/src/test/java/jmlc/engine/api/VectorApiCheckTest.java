package jmlc.engine.api;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java API in a JVM started without {@code --add-modules jdk.incubator.vector}, as a user's own
 * program may be: loading for the cpu device fails at once, saying which JVM options are missing
 * (it failed at the first generate, with NoClassDefFoundError); cpu:ref needs no Vector API.
 */
class VectorApiCheckTest {

    @Test
    void withoutTheVectorApiTheCpuDeviceSaysWhichOptionsAreMissing() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "jmlc.engine.cli.Main",
                "generate", "synthetic:tiny", "--tokens", "1,300", "--max-tokens", "2", "--device", "cpu", "-q").redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), out);
        List<String> errors = out.lines().filter(l -> l.startsWith("jmlc: error: ")).toList();
        assertEquals(List.of("jmlc: error: the cpu device runs Vector API kernels, and this JVM was started without them: add the JVM options "
                + "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED (the ./jmlc launcher and the Jupyter kernel do), "
                + "or use --device cpu:ref, the slow reference interpreter"), errors, out);

        Process ref = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "jmlc.engine.cli.Main",
                "generate", "synthetic:tiny", "--tokens", "1,300", "--max-tokens", "2", "--device", "cpu:ref", "-q").redirectErrorStream(true).start();
        String refOut = new String(ref.getInputStream().readAllBytes());
        assertTrue(ref.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, ref.exitValue(), "cpu:ref runs without the Vector API:\n" + refOut);
    }
}
