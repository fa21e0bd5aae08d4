package jmlc.engine.runtime.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ThreadPool}: every task runs (or is published) exactly once per run, stragglers are not waited for, failures reach the caller, misuse is refused. */
class ThreadPoolTest {

    @Test
    void everyTaskRunsOnceOnValidWorkers() {
        for (int threads = 1; threads <= 4; threads++)
            try (ThreadPool pool = new ThreadPool(threads, 1_000)) {     // short spin: exercise parking and unparking too
                for (int run = 0; run < 20000; run++) {
                    // counts that alternate by one are what once let a worker pair a new run's task
                    // count with the old run's claim counter and run a task twice
                    int tasks = run % 2 == 0 ? 1 + run / 2 % 37 : 2 + run / 2 % 37;
                    AtomicIntegerArray count = new AtomicIntegerArray(tasks);
                    int t = threads;
                    pool.run(tasks, (task, worker) -> {
                        assertTrue(worker >= 0 && worker < t);
                        count.incrementAndGet(task);
                    });
                    for (int i = 0; i < tasks; i++) assertEquals(1, count.get(i), "run " + run + " task " + i + " threads " + threads);
                    if (run % 5000 == 0) Thread.sleep(3);                    // let the workers park
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

    @Test
    void duplicableTasksArePublishedOnceEach() {
        for (int threads = 1; threads <= 3; threads++)
            try (ThreadPool pool = new ThreadPool(threads, 1_000)) {
                for (int run = 0; run < 2000; run++) {
                    int tasks = 1 + run % 23;
                    AtomicIntegerArray published = new AtomicIntegerArray(tasks);
                    int[] result = new int[tasks];
                    int[][] mine = new int[threads][1];
                    int r = run;
                    pool.runDuplicable(tasks, new ThreadPool.Duplicable() {
                        public void compute(int t, int w) { mine[w][0] = t * 1000 + r; }
                        public void publish(int t, int w) {
                            published.incrementAndGet(t);
                            result[t] = mine[w][0];
                        }
                    });
                    for (int t = 0; t < tasks; t++) {
                        assertEquals(1, published.get(t), "run " + run + " task " + t);
                        assertEquals(t * 1000 + run, result[t]);
                    }
                }
            }
    }

    /**
     * A worker stuck inside a task (here: blocked until the run has returned) does not hold the run
     * up: the caller computes that task itself. When the worker resumes, its stale result is dropped,
     * and the next run is unaffected. Not timing-dependent: without the duplication the run would
     * never return (the latch opens only after it does), which the timeout reports.
     */
    @Test
    void aStuckWorkerIsNotWaitedForAndNeverPublishesLate() throws Exception {
        try (ThreadPool pool = new ThreadPool(2)) {
            for (int attempt = 0; attempt < 200; attempt++) {
                java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
                java.util.concurrent.atomic.AtomicBoolean stuck = new java.util.concurrent.atomic.AtomicBoolean();
                AtomicIntegerArray published = new AtomicIntegerArray(4);
                int[] result = new int[4];
                int[][] mine = new int[2][1];
                assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> pool.runDuplicable(4, new ThreadPool.Duplicable() {
                    public void compute(int t, int w) {
                        if (w == 1 && stuck.compareAndSet(false, true)) {
                            try { release.await(); } catch (InterruptedException e) { throw new AssertionError(e); }
                            mine[w][0] = -1;                             // a stale result: must never be published
                            return;
                        }
                        if (w == 0) LockSupport.parkNanos(200_000);       // give the worker time to claim a task
                        mine[w][0] = t + 1;
                    }
                    public void publish(int t, int w) {
                        published.incrementAndGet(t);
                        result[t] = mine[w][0];
                    }
                }));
                release.countDown();
                for (int t = 0; t < 4; t++) {
                    assertEquals(1, published.get(t));
                    assertEquals(t + 1, result[t]);
                }
                // the next run works, and the stale task published nothing into either run
                AtomicIntegerArray count = new AtomicIntegerArray(6);
                pool.run(6, (t, w) -> count.incrementAndGet(t));
                for (int t = 0; t < 6; t++) assertEquals(1, count.get(t));
                for (int t = 0; t < 4; t++) assertEquals(1, published.get(t));
                if (stuck.get()) return;                                 // the worker did take a task: case covered
            }
            throw new AssertionError("the worker never claimed a task in 200 runs: the case was not exercised");
        }
    }

    @Test
    void aFailingDuplicableTaskReachesTheCaller() {
        try (ThreadPool pool = new ThreadPool(2)) {
            assertThrows(IllegalArgumentException.class, () -> pool.runDuplicable(8, new ThreadPool.Duplicable() {
                public void compute(int t, int w) { if (t == 5) throw new IllegalArgumentException("bad"); }
                public void publish(int t, int w) { }
            }));
            AtomicIntegerArray count = new AtomicIntegerArray(3);
            pool.run(3, (t, w) -> count.incrementAndGet(t));
            for (int t = 0; t < 3; t++) assertEquals(1, count.get(t));
        }
    }
}
