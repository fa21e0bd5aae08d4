package jmlc.magics.core;

import java.util.function.BooleanSupplier;

/**
 * Interrupts a thread, but never while it runs a library class's static initialiser. An interrupt
 * there can make the initialiser fail (Tablesaw's, for one, scans the classpath with ClassGraph,
 * which gives up when interrupted), and a class whose initialiser failed stays unusable for the
 * life of the JVM: every later use is a NoClassDefFoundError, until the kernel is restarted. So the
 * interrupt waits until the thread has left every such initialiser, polling its stack.
 * Initialisers of classes declared in notebook cells (JShell's {@code REPL.} classes) are the
 * user's own code and are interrupted at once, as a runaway loop in one must be stoppable.
 */
public final class DeferredInterrupt {
    private DeferredInterrupt() {}

    /** How often a deferred interrupt looks at the thread again. */
    static final long POLL_MILLIS = 20;
    /** A library initialiser still running after this long is interrupted anyway (it may never end). */
    static final long GIVE_UP_MILLIS = 10_000;

    /** Whether {@code t} is inside the static initialiser of a class that is not a notebook cell's own. */
    public static boolean inLibraryClassInit(Thread t) {
        for (StackTraceElement f : t.getStackTrace())
            if (f.getMethodName().equals("<clinit>") && !f.getClassName().startsWith("REPL.")) return true;
        return false;
    }

    /**
     * Interrupts {@code t} now, or once it has left library class initialisation, as long as
     * {@code stillWanted} holds (the cell or work it was meant for may end first).
     */
    public static void interrupt(Thread t, BooleanSupplier stillWanted) {
        if (!inLibraryClassInit(t)) {
            t.interrupt();
            return;
        }
        Thread.ofPlatform().daemon().name("jmlc-deferred-interrupt").start(() -> {
            long giveUp = System.nanoTime() + GIVE_UP_MILLIS * 1_000_000;
            while (stillWanted.getAsBoolean() && t.isAlive()) {
                if (!inLibraryClassInit(t) || System.nanoTime() > giveUp) {
                    t.interrupt();
                    return;
                }
                try {
                    Thread.sleep(POLL_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }
}
