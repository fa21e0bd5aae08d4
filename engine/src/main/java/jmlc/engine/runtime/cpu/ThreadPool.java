package jmlc.engine.runtime.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * One persistent pool of kernel threads: the calling thread (worker 0) plus {@code threads - 1}
 * workers.
 *
 * <p><b>Dispatch.</b> A run hands out task numbers {@code 0 .. tasks-1} through one atomic claim
 * counter; the caller works too. Decode issues ~150 kernels a token, so a run must cost about a
 * microsecond: idle workers spin on a volatile generation number, yielding after the first
 * microseconds, and park after {@link #spinNanos}; a parked worker is unparked (tens of µs).
 *
 * <p><b>Stragglers.</b> On a machine with more runnable threads than cores, a worker is sometimes
 * descheduled in the middle of a task for a whole scheduler slice (milliseconds), and a run that
 * waits for it loses that much: measured on 2 shared cores, the median GEMV was slower with two
 * threads than with one. {@link #runDuplicable} avoids the wait for tasks that can be computed
 * twice: each task computes into its worker's private scratch, and the first to finish publishes
 * its result. When the caller has no task left to claim and one is overdue (twice the caller's
 * own average task time), it computes that task itself. Every run has a generation number that
 * tags the claim counter and the task states, so a late worker of an old run can neither claim a
 * task of a new run nor publish into it; it finishes its stale computation in private and rejoins.
 * {@link #run} is the exactly-once form, for tasks that write shared memory directly.
 *
 * <p>One caller at a time: a second thread calling while a run is in flight, or a task calling its
 * own pool, gets an {@link IllegalStateException}. Each worker owns scratch arrays
 * ({@link #scratch}) that kernels reuse across calls.
 */
public final class ThreadPool implements AutoCloseable {

    /** One task of an exactly-once run: {@code task} in {@code 0 .. tasks-1}, {@code worker} in {@code 0 .. threads-1}. */
    @FunctionalInterface
    public interface Body {
        void run(int task, int worker);
    }

    /** A task that may be computed by two workers at once: {@code compute} writes only worker-private memory. */
    public interface Duplicable {
        /** Computes {@code task} into {@code worker}'s private scratch. Must not write shared memory. */
        void compute(int task, int worker);

        /** Publishes {@code worker}'s result of {@code task}; called exactly once per task. */
        void publish(int task, int worker);
    }

    /** How long an idle worker waits for work before it parks (nanoseconds). */
    private static final long DEFAULT_SPIN_NANOS = 500_000;
    /** Pure spinning before the wait starts yielding the core to other threads. */
    private static final long PURE_SPIN_NANOS = 20_000;
    /** The least the caller waits for an overdue task before computing it itself. */
    private static final long MIN_GRACE_NANOS = 20_000;

    private static volatile ThreadPool shared;

    private final int threads;
    private final long spinNanos;
    private final Thread[] workers;
    private final float[][][] scratch;

    /**
     * One run's parameters, published as a whole through the volatile {@link #current}: a worker
     * that reads a run's task count always claims with that run's generation (separate fields let a
     * worker pair a new run's count with the old run's claim counter and run a task twice).
     */
    private record Run(long generation, Body body, Duplicable duplicable, int tasks) {}

    private volatile Run current = new Run(0, null, null, 0);
    /** (generation << 32) | next task to claim. */
    private final AtomicLong claim = new AtomicLong();
    /** Exactly-once runs: tasks finished. */
    private final AtomicInteger finished = new AtomicInteger();
    /** Duplicable runs: per task, (generation << 2) | {0 open, 1 publishing, 2 published}. */
    private AtomicLongArray state = new AtomicLongArray(64);
    /** The first failure of a run, tagged with the run's generation. */
    private record Failure(long generation, Throwable error) {}

    private volatile Failure failure;
    private volatile boolean closed;
    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicIntegerArray parked;                // 1 while worker i is (about to be) parked

    /** A pool of {@code threads} threads (the caller included). */
    public ThreadPool(int threads) {
        this(threads, DEFAULT_SPIN_NANOS);
    }

    public ThreadPool(int threads, long spinNanos) {
        if (threads < 1) throw new IllegalArgumentException("a thread pool needs at least one thread, not " + threads);
        this.threads = threads;
        this.spinNanos = spinNanos;
        this.scratch = new float[threads][SCRATCH_SLOTS][];
        this.parked = new AtomicIntegerArray(threads);
        this.workers = new Thread[threads - 1];
        for (int w = 1; w < threads; w++) {
            int id = w;
            Thread t = new Thread(() -> workerLoop(id), "jmlc-cpu-" + w);
            t.setDaemon(true);
            workers[w - 1] = t;
            t.start();
        }
    }

    /** The process-wide pool: {@code -Djmlc.cpu.threads=N} threads, else one per available core. Never closed. */
    public static ThreadPool shared() {
        ThreadPool p = shared;
        if (p == null) {
            synchronized (ThreadPool.class) {
                p = shared;
                if (p == null) {
                    int n = Integer.getInteger("jmlc.cpu.threads", Runtime.getRuntime().availableProcessors());
                    shared = p = new ThreadPool(Math.max(1, n));
                }
            }
        }
        return p;
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code body} once for each task {@code 0 .. tasks-1} on all threads; returns when all are done. */
    public void run(int tasks, Body body) {
        if (tasks <= 0) return;
        enter();
        try {
            if (threads == 1 || tasks == 1) {
                for (int t = 0; t < tasks; t++) body.run(t, 0);
                return;
            }
            Run r = publish(tasks, body, null);
            drain(0, r);
            while (finished.get() < tasks) Thread.onSpinWait();   // exactly once: wait for every task
            rethrow(r.generation);
        } finally {
            busy.set(0);
        }
    }

    /** Runs every task of {@code d} (see {@link Duplicable}); returns when each one's result is published. */
    public void runDuplicable(int tasks, Duplicable d) {
        if (tasks <= 0) return;
        enter();
        try {
            if (threads == 1 || tasks == 1) {
                for (int t = 0; t < tasks; t++) {
                    d.compute(t, 0);
                    d.publish(t, 0);
                }
                return;
            }
            if (state.length() < tasks) state = new AtomicLongArray(Math.max(tasks, 2 * state.length()));
            Run r = publish(tasks, null, d);
            long g = r.generation;
            long start = System.nanoTime();
            int mine = drain(0, r);
            long idleSince = System.nanoTime();
            long grace = Math.max(MIN_GRACE_NANOS, mine > 0 ? 2 * (idleSince - start) / mine : 0);
            for (int t = 0; t < tasks; t++) {
                while (phase(t, g) == 0 && System.nanoTime() - idleSince < grace) {
                    rethrow(g);
                    Thread.onSpinWait();
                }
                if (phase(t, g) == 0) {                       // overdue: compute it here as well
                    d.compute(t, 0);
                    commit(g, t, d, 0);
                }
                while (phase(t, g) != 2) {                    // another thread is publishing it
                    rethrow(g);
                    Thread.onSpinWait();
                }
            }
            rethrow(g);
        } finally {
            busy.set(0);
        }
    }

    private void enter() {
        if (closed) throw new IllegalStateException("thread pool is closed");
        if (!busy.compareAndSet(0, 1))
            throw new IllegalStateException("thread pool is already running a kernel (called from a task, or from two threads at once)");
    }

    /** Sets up a run and wakes the workers. */
    private Run publish(int tasks, Body body, Duplicable d) {
        Run r = new Run(current.generation + 1, body, d, tasks);
        long g = r.generation;
        finished.set(0);
        claim.set(g << 32);
        if (d != null) for (int t = 0; t < tasks; t++) state.set(t, g << 2);
        current = r;                                        // volatile write publishes the run
        for (int w = 1; w < threads; w++)
            if (parked.get(w) != 0) LockSupport.unpark(workers[w - 1]);
        return r;
    }

    /** The phase of task {@code t} in run {@code g}; 2 (done) if the run is over. */
    private int phase(int t, long g) {
        long s = state.get(t);
        return (s >>> 2) == g ? (int) (s & 3) : 2;
    }

    /**
     * Claims and runs tasks of run {@code g} until none is left; returns how many this thread ran.
     * After a failure the remaining tasks of an exactly-once run are claimed and skipped, so that
     * the caller's count completes; a failed duplicable task is left open for the caller to redo
     * (and fail on itself).
     */
    private int drain(int worker, Run run) {
        long g = run.generation;
        Body b = run.body;
        Duplicable d = run.duplicable;
        int n = run.tasks, done = 0;
        for (int t; (t = claimNext(g, n)) >= 0; done++) {
            try {
                if (d != null) {
                    d.compute(t, worker);
                    commit(g, t, d, worker);
                } else if (!failed(g)) {
                    b.run(t, worker);
                }
            } catch (Throwable e) {
                if (current.generation == g && !failed(g)) failure = new Failure(g, e);
            } finally {
                if (d == null) finished.incrementAndGet();
            }
        }
        return done;
    }

    private boolean failed(long g) {
        Failure f = failure;
        return f != null && f.generation == g;
    }

    /** The next task of run {@code g}, or -1 when there is none (or the run is over). */
    private int claimNext(long g, int n) {
        while (true) {
            long c = claim.get();
            if ((c >>> 32) != g || (int) c >= n) return -1;
            if (claim.compareAndSet(c, c + 1)) return (int) c;
        }
    }

    /** First finisher of task {@code t} in run {@code g} publishes; later ones (and stale runs) drop their result. */
    private void commit(long g, int t, Duplicable d, int worker) {
        if (state.compareAndSet(t, g << 2, (g << 2) | 1)) {
            try {
                d.publish(t, worker);
            } finally {
                state.set(t, (g << 2) | 2);
            }
        }
    }

    private void rethrow(long g) {
        Failure f = failure;
        if (f != null && f.generation == g) {
            if (f.error instanceof RuntimeException r) throw r;
            if (f.error instanceof Error e) throw e;
            throw new IllegalStateException(f.error);
        }
    }

    private void workerLoop(int id) {
        Run seen = current;
        while (!closed) {
            Run r = current;
            if (r != seen) {
                seen = r;
                drain(id, r);
                continue;
            }
            long start = System.nanoTime();
            int spins = 0;
            while (current == seen && !closed) {
                Thread.onSpinWait();
                if ((++spins & 63) == 0) {
                    long waited = System.nanoTime() - start;
                    if (waited > spinNanos) {
                        parked.set(id, 1);                  // then re-check, so an unpark cannot be missed
                        while (current == seen && !closed) LockSupport.park(this);
                        parked.set(id, 0);
                    } else if (waited > PURE_SPIN_NANOS) {
                        Thread.yield();                     // let a descheduled caller (or anyone) have the core
                    }
                }
            }
        }
    }

    // ---- per-worker scratch ----

    /** Scratch slots per worker, named by use. */
    static final int SCRATCH_SLOTS = 5;
    /** Worker 0 only: an operand the caller prepares before a run (permuted x, prepared tokens). */
    static final int X = 0;
    /** Any worker: a decoded weight tile or row, attention scores. */
    static final int TILE = 1;
    /** Worker 0 only: split-K partial sums. */
    static final int PARTIAL = 2;
    /** Any worker: a duplicable task's private result, published by {@link Duplicable#publish}. */
    static final int RESULT = 3;
    /** Any worker: one weight row's scales as floats. */
    static final int SCALES = 4;

    /**
     * Worker {@code worker}'s scratch array in {@code slot}, at least {@code size} floats; grown (not
     * cleared) when too small. Worker 0's scratch may be used by the caller before a run.
     */
    float[] scratch(int worker, int slot, int size) {
        float[] a = scratch[worker][slot];
        if (a == null || a.length < size) scratch[worker][slot] = a = new float[Math.max(size, a == null ? 0 : a.length + a.length / 2)];
        return a;
    }

    /** Stops the workers (they exit at once, parked or not). */
    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) LockSupport.unpark(t);
    }
}
