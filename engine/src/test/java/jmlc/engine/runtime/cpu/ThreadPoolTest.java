package jmlc.engine.runtime.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ThreadPool}: every task runs exactly once per run, failures reach the caller, misuse is refused. */
class ThreadPoolTest {

    @Test
    void everyTaskRunsOnceOnValidWorkers() {
        for (int threads = 1; threads <= 4; threads++)
            try (ThreadPool pool = new ThreadPool(threads, 1_000)) {     // short spin: exercise parking and unparking too
                for (int run = 0; run < 2000; run++) {
                    int tasks = 1 + run % 37;
                    AtomicIntegerArray count = new AtomicIntegerArray(tasks);
                    int t = threads;
                    pool.run(tasks, (task, worker) -> {
                        assertTrue(worker >= 0 && worker < t);
                        count.incrementAndGet(task);
                    });
                    for (int i = 0; i < tasks; i++) assertEquals(1, count.get(i), "run " + run + " task " + i + " threads " + threads);
                    if (run % 500 == 0) Thread.sleep(3);                     // let the workers park
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
    }

    @Test
    void aFailingTaskReachesTheCallerAndThePoolStaysUsable() {
        try (ThreadPool pool = new ThreadPool(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            var e = assertThrows(IllegalStateException.class, () -> pool.run(10, (task, w) -> { if (task == 7) throw boom; }));
            assertSame(boom, e);
            AtomicIntegerArray count = new AtomicIntegerArray(5);
            pool.run(5, (task, w) -> count.incrementAndGet(task));
            for (int i = 0; i < 5; i++) assertEquals(1, count.get(i));
        }
    }

    @Test
    void nestedRunsAreRefused() {
        try (ThreadPool pool = new ThreadPool(2)) {
            assertThrows(IllegalStateException.class, () -> pool.run(2, (task, w) -> pool.run(2, (a, b) -> { })));
        }
    }

    @Test
    void aClosedPoolRefusesWork() {
        ThreadPool pool = new ThreadPool(2);
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.run(2, (task, w) -> { }));
    }
}
