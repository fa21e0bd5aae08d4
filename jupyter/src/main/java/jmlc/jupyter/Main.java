package jmlc.jupyter;

import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Starts the kernel: {@code java ... jmlc.jupyter.Main CONNECTION_FILE}, as kernel.json tells Jupyter.
 * Set {@code -Djmlc.log=debug} to see jjava's message traffic on stderr.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector "
                    + "-cp <kernel classpath> jmlc.jupyter.Main CONNECTION_FILE");
            System.exit(2);
        }
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("jmlc.log", "warn"));
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");

        var properties = KernelConnectionProperties.parse(Files.readString(Path.of(args[0])));
        var kernel = JmlcKernel.create();
        var connection = new JupyterConnection(properties);
        kernel.becomeHandlerForConnection(connection);
        kernel.onStartup();
        connection.connect();
        connection.waitUntilClose();
        System.exit(0); // cell code may have left non-daemon threads running
    }
}
