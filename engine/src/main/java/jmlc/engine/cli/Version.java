package jmlc.engine.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** {@code jmlc --version}: the build's version (from the jar's Maven metadata), Java and the OS. */
final class Version implements CommandLine.IVersionProvider {

    static String version() {
        try (InputStream in = Version.class.getResourceAsStream("/META-INF/maven/dev.jmlc/jmlc-engine/pom.properties")) {
            if (in == null) return "(development build)";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "(unknown version)");
        } catch (IOException e) {
            return "(unknown version)";
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {
                "jmlc " + version(),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + "), "
                        + System.getProperty("os.name") + " " + System.getProperty("os.arch")};
    }
}
