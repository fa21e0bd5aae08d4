package jmlc.magics.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A stop reaches the engine work a magic waits for: the worker is interrupted, outside class initialisation (issue 14). */
class BackgroundTest {

    /** Its initialiser takes 0.7 s and fails if interrupted, as Tablesaw's ClassGraph scan does. */
    static final class SlowInit {
        static {
            try {
                Thread.sleep(700);
            } catch (InterruptedException e) {
                throw new IllegalStateException("initialisation interrupted", e);
            }
        }

        static int touch() {
            return 7;
        }
    }

    /** Runs {@code work} through Background on a thread of its own, interrupting that thread after {@code millis}. */
    private static Throwable interruptedAfter(long millis, java.util.concurrent.Callable<Integer> work) throws Exception {
        AtomicReference<Thread> magicThread = new AtomicReference<>();
        var run = CompletableFuture.supplyAsync(() -> {
            magicThread.set(Thread.currentThread());
            try {
                return Background.run("jmlc-test-work", work, () -> { });
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
        Thread.sleep(millis);
        magicThread.get().interrupt();
        return assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThrows(CompletionException.class, run::join)).getCause();
    }

    @Test
    void theWorkerIsInterruptedToo() throws Exception {
        // work that only an interrupt ends (a loop of the engine's that checks its thread), ended within a second
        long t0 = System.nanoTime();
        Throwable e = interruptedAfter(200, () -> {
            while (!Thread.currentThread().isInterrupted()) Thread.onSpinWait();
            return 0;
        });
        assertTrue(e instanceof InterruptedException, String.valueOf(e));
        assertTrue((System.nanoTime() - t0) / 1e9 < 1.2, "ended within a second of the stop");
    }

    @Test
    void butNotInsideAClassInitialiser() throws Exception {
        Throwable e = interruptedAfter(200, SlowInit::touch);
        assertTrue(e instanceof InterruptedException, String.valueOf(e));
        assertEquals(7, SlowInit.touch(), "the class initialised fully: no NoClassDefFoundError afterwards");
    }
}
