package jmlc.kernel;

import jdk.jshell.execution.LocalExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

import java.lang.reflect.Field;
import java.util.Map;

/**
 * JShell execution in the kernel's own JVM (JDK's {@link LocalExecutionControl}: snippets run on a
 * thread of their own, {@code JShell.stop()} interrupts them), plus one addition: the object a
 * variable holds, not only its {@code toString()}, so that cells and magics share real objects.
 *
 * <p>{@link #valueOf} reads a variable through JShell ({@code JShell.varValue}, which lands in
 * {@link #varValue} here) and keeps the object instead of formatting it.
 */
final class InProcessExecution extends LocalExecutionControl {

    /** Hands JShell an {@link InProcessExecution} and keeps it for the shell that asked. */
    static final class Provider implements ExecutionControlProvider {
        private InProcessExecution created;

        @Override
        public String name() {
            return "jmlc-in-process";
        }

        @Override
        public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) {
            created = new InProcessExecution(Thread.currentThread().getContextClassLoader());
            return created;
        }

        InProcessExecution created() {
            return created;
        }
    }

    private Object lastValue;

    private InProcessExecution(ClassLoader parent) {
        super(parent);
    }

    /** Called by JShell.varValue: keeps the object; the text JShell shows came with the evaluation. */
    @Override
    public String varValue(String className, String varName) throws InternalException {
        try {
            Class<?> klass = findClass(className);
            Field field = klass.getDeclaredField(varName);
            field.setAccessible(true);
            lastValue = field.get(null);
            return "";
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new InternalException("cannot read " + varName + ": " + e);
        }
    }

    /** The object {@code read} made JShell fetch through {@link #varValue}. */
    synchronized Object valueOf(Runnable read) {
        lastValue = null;
        read.run();
        Object value = lastValue;
        lastValue = null;
        return value;
    }
}
