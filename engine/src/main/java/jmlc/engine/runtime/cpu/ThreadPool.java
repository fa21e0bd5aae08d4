package jmlc.engine.runtime.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * One persistent pool of kernel threads: the calling thread plus {@code threads - 1} workers.
 *
 * <p>{@link #run} hands out task numbers {@code 0 .. tasks-1} through one atomic counter; the
 * caller works too and returns when every task is done. Decode issues ~150 matmuls a token, so
 * dispatch must cost microseconds, not tens of them: idle workers spin on a volatile generation
 * number for {@link #spinNanos} before they park, so back-to-back kernels wake them in well under a
 * microsecond; a parked worker is unparked (tens of microseconds).
 *
 * <p>One caller at a time: a second thread calling {@link #run} while a run is in flight, or a
 * task calling {@link #run} on its own pool, gets an {@link IllegalStateException}. Each worker
 * (the caller is worker 0) owns scratch arrays ({@link #scratch}) that kernels reuse across calls.
 */
public final class ThreadPool implements AutoCloseable {

    /** One task of a run: {@code task} in {@code 0 .. tasks-1}, {@code worker} in {@code 0 .. threads-1}. */
    @FunctionalInterface
    public interface Body {
        void run(int task, int worker);
    }

    /** How long an idle worker spins before it parks (nanoseconds). */
    private static final long DEFAULT_SPIN_NANOS = 2_000_000;

    private static volatile ThreadPool shared;

    private final int threads;
    private final long spinNanos;
    private final Thread[] workers;
    private final float[][][] scratch;

    // The current run. Written by the caller before the volatile write of generation, read by
    // workers after the volatile read that sees it.
    private Body body;
    private int tasks;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Throwable failure;
    private volatile long generation;
    private volatile boolean closed;
    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicIntegerArray parked;            // 1 while worker i is (about to be) parked

    /** A pool of {@code threads} threads (the caller included), spinning 2 ms before parking. */
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

    /**
     * The process-wide pool: {@code -Djmlc.cpu.threads=N} threads, else one per available core.
     * Created on first use, never closed.
     */
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

    /** Runs {@code body} for tasks {@code 0 .. tasks-1} on all threads; returns when all are done. */
    public void run(int tasks, Body body) {
        if (tasks <= 0) return;
        if (closed) throw new IllegalStateException("thread pool is closed");
        if (!busy.compareAndSet(0, 1))
            throw new IllegalStateException("thread pool is already running a kernel (called from a task, or from two threads at once)");
        try {
            if (threads == 1 || tasks == 1) {
                for (int t = 0; t < tasks; t++) body.run(t, 0);
                return;
            }
            this.body = body;
            this.tasks = tasks;
            next.set(0);
            failure = null;
            pending.set(threads - 1);
            generation++;                                   // volatile write publishes the run
            for (int w = 1; w < threads; w++)
                if (parked.get(w) != 0) LockSupport.unpark(workers[w - 1]);
            drain(0);
            while (pending.get() != 0) Thread.onSpinWait();
            this.body = null;
            Throwable f = failure;
            if (f != null) {
                if (f instanceof RuntimeException r) throw r;
                if (f instanceof Error e) throw e;
                throw new IllegalStateException(f);
            }
        } finally {
            busy.set(0);
        }
    }

    private void drain(int worker) {
        Body b = body;
        int n = tasks;
        try {
            for (int t; (t = next.getAndIncrement()) < n; ) b.run(t, worker);
        } catch (Throwable e) {
            if (failure == null) failure = e;
            next.set(n);                                    // skip the remaining tasks
        }
    }

    private void workerLoop(int id) {
        long seen = 0;
        while (!closed) {
            long g = generation;
            if (g != seen) {
                seen = g;
                drain(id);
                pending.decrementAndGet();
                continue;
            }
            long start = System.nanoTime();
            int spins = 0;
            while (generation == seen && !closed) {
                Thread.onSpinWait();
                if ((++spins & 255) == 0 && System.nanoTime() - start > spinNanos) {
                    parked.set(id, 1);                     // then re-check, so an unpark cannot be missed
                    while (generation == seen && !closed) LockSupport.park(this);
                    parked.set(id, 0);
                }
            }
        }
    }

    // ---- per-worker scratch ----

    /** Scratch slots per worker, named by use. */
    static final int SCRATCH_SLOTS = 3;
    /** Worker 0 only: an operand the caller prepares before a run (permuted x, split-K partial sums). */
    static final int X = 0;
    /** Any worker: a decoded weight tile or row, attention scores. */
    static final int TILE = 1;
    /** Worker 0 only: split-K partial sums. */
    static final int PARTIAL = 2;

    /**
     * Worker {@code worker}'s scratch array in {@code slot}, at least {@code size} floats; grown (not
     * cleared) when too small. Worker 0's scratch may be used by the caller before a run.
     */
    float[] scratch(int worker, int slot, int size) {
        float[] a = scratch[worker][slot];
        if (a == null || a.length < size) scratch[worker][slot] = a = new float[Math.max(size, a == null ? 0 : a.length + a.length / 2)];
        return a;
    }

    /** Stops the workers (they exit within {@link #spinNanos} or at once if parked). */
    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) LockSupport.unpark(t);
    }
}
