package jmlc.jupyter;

import jdk.jshell.execution.LocalExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;
import jmlc.magics.core.DeferredInterrupt;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
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
            // The kernel's own loader, not the thread's context loader: JDK's loader delegate makes its
            // snippet loader the context loader, and a second shell must not see the first one's classes.
            created = new InProcessExecution(InProcessExecution.class.getClassLoader());
            return created;
        }

        InProcessExecution created() {
            return created;
        }
    }

    private Object lastValue;
    private volatile boolean stopRequested;

    private InProcessExecution(ClassLoader parent) {
        super(parent);
    }

    /**
     * Refuses to start a snippet once a stop was asked for: a stop that lands while JShell compiles
     * the next snippet of a cell finds no user code to stop, and would otherwise be lost.
     */
    @Override
    protected String invoke(Method doitMethod) throws Exception {
        if (stopRequested) throw new StoppedException();
        return super.invoke(doitMethod);
    }

    void requestStop(boolean stop) {
        stopRequested = stop;
    }

    /** Cells' classes load with their exits refused ({@link ExitRefusal}); JDK's stop checks are woven in after. */
    @Override
    public void load(ClassBytecodes[] cbcs) throws ClassInstallException, NotImplementedException, EngineTerminationException {
        ClassBytecodes[] rewritten = new ClassBytecodes[cbcs.length];
        for (int i = 0; i < cbcs.length; i++) rewritten[i] = new ClassBytecodes(cbcs[i].name(), ExitRefusal.rewrite(cbcs[i].bytecodes()));
        super.load(rewritten);
    }

    /**
     * Stops the running snippet, unless one of its threads is initialising a library class: an
     * interrupt there could break that class for the rest of the session ({@link DeferredInterrupt}).
     * Then nothing is stopped yet; {@link JavaShell#stop()} asks again every 100 ms.
     */
    @Override
    public void stop() throws EngineTerminationException, InternalException {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            ThreadGroup g = t.getThreadGroup();
            if (g != null && g.getName().equals(SNIPPET_THREAD_GROUP) && DeferredInterrupt.inLibraryClassInit(t)) return;
        }
        super.stop();
    }

    /** The name LocalExecutionControl gives the thread group of the threads that run snippets. */
    private static final String SNIPPET_THREAD_GROUP = "JShell process local execution";

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
