package jmlc.magics.llm;

import java.util.concurrent.Callable;
import jmlc.magics.core.DeferredInterrupt;

/**
 * Runs engine work (loading, generating) on a thread of its own while the magic's thread waits, so
 * that the notebook's stop button, which interrupts the magic's thread, is seen at once even when the
 * engine does not look at interrupts. On an interrupt, {@code onInterrupt} asks the work to stop
 * (e.g. {@code ChatModule.cancel()}) and the worker is interrupted too, outside class initialisation
 * ({@link DeferredInterrupt}): reading model files and tokenizing stop at an interrupt. The magic then
 * waits for the work to end, so the model is never used by two threads, and gets an
 * {@link InterruptedException}.
 */
final class Background {

    private Background() {
    }

    static <T> T run(String name, Callable<T> work, Runnable onInterrupt) throws Exception {
        var result = new Object() {
            T value;
            Throwable failure;
        };
        Thread worker = new Thread(() -> {
            try {
                result.value = work.call();
            } catch (Throwable t) {
                result.failure = t;
            }
        }, name);
        worker.setDaemon(true);
        worker.start();
        boolean interrupted = false;
        while (true) {
            try {
                worker.join(); // what the worker wrote happens-before join returns
                break;
            } catch (InterruptedException e) {
                if (!interrupted) {
                    onInterrupt.run();
                    DeferredInterrupt.interrupt(worker, worker::isAlive);
                }
                interrupted = true;
            }
        }
        if (interrupted) throw new InterruptedException("interrupted by the user");
        return switch (result.failure) {
            case null -> result.value;
            case Exception e -> throw e;
            case Error e -> throw e;
            default -> throw new IllegalStateException(result.failure);
        };
    }
}
