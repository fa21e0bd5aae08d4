package jmlc.engine.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The ./jmlc launcher starts the JVM with stderr through a filter, which drops the JVM's
 * "WARNING: Using incubator modules" (printed before main, and no option silences it), and with the
 * real stderr kept as another descriptor ({@code -Djmlc.stderr.fd=3}). Once main runs the warning
 * is out, so stderr goes straight to where it belongs again: written in order with stdout, as a
 * terminal shows them, not whenever the filter gets to it.
 */
final class LauncherStderr {
    private LauncherStderr() {}

    /** Makes fd 2 the launcher's real stderr again (POSIX dup2), ending the filter; nothing to do without the launcher. */
    static void restore() {
        String fd = System.getProperty("jmlc.stderr.fd");
        if (fd == null) return;
        try {
            int real = Integer.parseInt(fd);
            Linker linker = Linker.nativeLinker();
            MethodHandle dup2 = linker.downcallHandle(linker.defaultLookup().find("dup2").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
            MethodHandle close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
            System.err.flush();
            if ((int) dup2.invokeExact(real, 2) == 2) {
                int ignored = (int) close.invokeExact(real);
            }
        } catch (Throwable e) {
            // no libc to call: stderr stays behind the filter, which passes it through
        }
    }
}
