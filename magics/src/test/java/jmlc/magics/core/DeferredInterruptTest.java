package jmlc.magics.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class DeferredInterruptTest {

    static final CountDownLatch initialising = new CountDownLatch(1);
    static final AtomicBoolean interruptedInside = new AtomicBoolean();

    /** Its initialiser waits 500 ms, noting whether an interrupt reached it meanwhile. */
    static final class Slow {
        static {
            initialising.countDown();
            long end = System.nanoTime() + 500_000_000L;
            while (System.nanoTime() < end) if (Thread.currentThread().isInterrupted()) interruptedInside.set(true);
        }

        static void touch() { }
    }

    @Test
    void anInterruptWaitsUntilTheInitialiserReturns() throws Exception {
        AtomicBoolean interruptedAfter = new AtomicBoolean();
        Thread t = new Thread(() -> {
            Slow.touch();
            long end = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < end && !Thread.currentThread().isInterrupted()) Thread.onSpinWait();
            interruptedAfter.set(Thread.currentThread().isInterrupted());
        });
        t.start();
        assertTrue(initialising.await(5, TimeUnit.SECONDS));
        Thread.sleep(50);
        assertTrue(DeferredInterrupt.inLibraryClassInit(t));
        DeferredInterrupt.interrupt(t, () -> true);
        t.join(5_000);
        assertFalse(interruptedInside.get(), "the initialiser ran undisturbed");
        assertTrue(interruptedAfter.get(), "the interrupt came once it returned");
    }

    @Test
    void aDeferredInterruptNoLongerWantedIsDropped() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        AtomicBoolean wanted = new AtomicBoolean(true);
        AtomicBoolean interrupted = new AtomicBoolean();
        Thread t = new Thread(() -> {
            Later.touch(inside);
            long end = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < end) if (Thread.currentThread().isInterrupted()) interrupted.set(true);
        });
        t.start();
        assertTrue(inside.await(5, TimeUnit.SECONDS));
        Thread.sleep(50);
        DeferredInterrupt.interrupt(t, wanted::get);
        wanted.set(false); // the cell it was meant for ended
        t.join(5_000);
        assertFalse(interrupted.get());
    }

    static final class Later {
        static CountDownLatch signal;

        static void touch(CountDownLatch s) {
            signal = s;
            Init.run();
        }

        static final class Init {
            static {
                signal.countDown();
                long end = System.nanoTime() + 300_000_000L;
                while (System.nanoTime() < end) Thread.onSpinWait();
            }

            static void run() { }
        }
    }
}
