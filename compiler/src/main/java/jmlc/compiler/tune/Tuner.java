package jmlc.compiler.tune;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Searches each task's knob space on one device under a time budget, through a {@link Measurer}
 * the runtime supplies; knows no device.
 *
 * <ol>
 * <li>Every task's defaults (and the values the model compiles with now, if they differ) are
 *     measured first: their time times the task's uses, over the same for every task of its
 *     program, is the task's share of a step (decode and prefill weigh the same: each program's
 *     shares add up to one).</li>
 * <li>Tasks are searched in order of that share, each given the remaining budget in proportion to
 *     its share of what remains (a task that runs out of candidates early leaves its time to the
 *     rest): exhaustively when the space is small, else by a seeded evolutionary search.</li>
 * <li>The fastest candidate and the defaults are timed again, back to back, and the candidate is
 *     kept only if it still beats the defaults by {@link Settings#minGain}: a lucky sample does
 *     not change the kernels.</li>
 * </ol>
 */
public final class Tuner {

    /**
     * @param budget         wall time for all tasks (measuring the defaults included)
     * @param seed           seeds the evolutionary search (and so the candidates it picks)
     * @param exhaustiveUpTo spaces with at most this many valid combinations are searched whole
     * @param batch          candidates handed to the measurer at once (it may compile them in parallel)
     * @param minGain        a candidate replaces the defaults only if at least this much faster (0.01: 1%)
     */
    public record Settings(Duration budget, long seed, int exhaustiveUpTo, int batch, double minGain) {
        public Settings {
            if (budget.isNegative() || budget.isZero()) throw new IllegalArgumentException("the tuning budget must be positive, found " + budget);
            if (batch < 1) throw new IllegalArgumentException("batch must be positive");
        }

        public static Settings of(Duration budget) {
            return new Settings(budget, 1, 64, 16, 0.01);
        }

        public Settings seed(long s) {
            return new Settings(budget, s, exhaustiveUpTo, batch, minGain);
        }

        public Settings exhaustiveUpTo(int n) {
            return new Settings(budget, seed, n, batch, minGain);
        }

        public Settings batch(int n) {
            return new Settings(budget, seed, exhaustiveUpTo, n, minGain);
        }
    }

    /** Hears how tuning goes (a progress bar, a live chart). Called on the tuning thread. */
    public interface Listener {
        default void started(List<TuningTask> tasks, Duration budget) {}

        default void measured(TuningTask task, Measurement m, Measurement.Timed best) {}

        default void taskFinished(TaskResult result, int done, int of) {}

        Listener NONE = new Listener() {};
    }

    /** What a run found: a result per task, in the order searched, and the wall time it took. */
    public record Report(List<TaskResult> results, double seconds, String how) {
        public Report {
            results = List.copyOf(results);
        }

        /** Database entries for every task whose defaults were timed. */
        public List<TuningRecord> records(String measured) {
            return results.stream().filter(r -> r.defaults() != null && r.best() != null).map(r -> TuningRecord.of(r, measured, how)).toList();
        }

        /** Step milliseconds saved by the kept candidates, over tasks of the decode or the prefill program. */
        public double savedMs(boolean decode) {
            return results.stream().filter(r -> r.task().decode() == decode).mapToDouble(TaskResult::savedMs).sum();
        }
    }

    private final Measurer measurer;
    private final Settings settings;
    private final Listener listener;
    private final LongSupplier nanoTime;

    public Tuner(Measurer measurer, Settings settings, Listener listener) {
        this(measurer, settings, listener, System::nanoTime);
    }

    /** With a clock of its own (tests). */
    public Tuner(Measurer measurer, Settings settings, Listener listener, LongSupplier nanoTime) {
        this.measurer = measurer;
        this.settings = settings;
        this.listener = listener;
        this.nanoTime = nanoTime;
    }

    private final class Run {
        final TuningTask task;
        final Measurer.Session session;
        final Search search;
        final List<Measurement> all = new ArrayList<>();
        Measurement.Timed defaults, best;
        boolean exhausted, closed;
        double seconds;

        Run(TuningTask task, Measurer.Session session) {
            this.task = task;
            this.session = session;
            Map<String, Integer> d = task.space().defaults(), current = task.space().resolve(task.current());
            this.search = Search.of(task.space(), current.equals(d) ? List.of(d) : List.of(d, current), settings.exhaustiveUpTo(),
                    settings.seed() ^ task.signature().toString().hashCode());
        }

        void close() {
            if (!closed) session.close();
            closed = true;
        }

        /** The defaults' time a step; {@link #share} divides it by its program's total. */
        double stepMs() {
            return defaults == null ? 0 : defaults.ms() * task.uses();
        }

        double share;

        /** A batch that should end by {@code until}, judging by this task's time a candidate so far: one at least, {@link Settings#batch} at most. */
        int batchUntil(long until) {
            if (all.isEmpty()) return settings.batch();
            double perCandidate = seconds / all.size() * 1e9;
            return (int) Math.clamp((until - nanoTime.getAsLong()) / Math.max(1, perCandidate), 1, settings.batch());
        }

        /** Measures a batch from the search; false when the search has nothing left. */
        boolean step(int n) {
            long t0 = nanoTime.getAsLong();
            List<Map<String, Integer>> batch = search.next(n);
            if (batch.isEmpty()) {
                exhausted = true;
                return false;
            }
            for (Measurement m : session.measure(batch, best == null ? Double.POSITIVE_INFINITY : best.ms())) {
                all.add(m);
                search.observe(m);
                if (m instanceof Measurement.Timed t) {
                    if (t.knobs().equals(task.space().defaults()) && defaults == null) defaults = t;
                    if (best == null || t.ms() < best.ms()) best = t;
                }
                listener.measured(task, m, best);
            }
            seconds += (nanoTime.getAsLong() - t0) / 1e9;
            return true;
        }
    }

    public Report tune(List<TuningTask> tasks) {
        long start = nanoTime.getAsLong(), end = start + settings.budget().toNanos();
        listener.started(tasks, settings.budget());
        List<Run> runs = new ArrayList<>();
        List<TaskResult> results = new ArrayList<>();
        try {
            // 1. the defaults (and the database's values) of every task: each task's share of a step
            for (TuningTask t : tasks) {
                Run r = new Run(t, measurer.open(t));
                runs.add(r);
                int first = t.space().resolve(t.current()).equals(t.space().defaults()) ? 1 : 2;
                r.step(first);
                if (nanoTime.getAsLong() >= end) break;
            }
            // 2. the search, the largest share first, each given its share of the time left
            for (Run r : runs) {
                double program = runs.stream().filter(o -> o.task.decode() == r.task.decode()).mapToDouble(Run::stepMs).sum();
                r.share = program > 0 ? r.stepMs() / program : 0;
            }
            List<Run> order = new ArrayList<>(runs);
            order.sort(Comparator.comparingDouble((Run r) -> r.share).reversed());
            for (int i = 0; i < order.size(); i++) {
                Run r = order.get(i);
                if (r.defaults != null) {
                    double rest = order.subList(i, order.size()).stream().mapToDouble(o -> o.share).sum();
                    long left = end - nanoTime.getAsLong();
                    long until = nanoTime.getAsLong() + (long) (left * (rest > 0 ? r.share / rest : 0));
                    while (nanoTime.getAsLong() < until && r.step(r.batchUntil(until))) { }
                    confirm(r);
                }
                r.close();
                results.add(new TaskResult(r.task, r.defaults, r.defaults == null ? null : r.best, r.all, r.exhausted, r.seconds));
                listener.taskFinished(results.getLast(), results.size(), tasks.size());
            }
            for (TuningTask t : tasks.subList(runs.size(), tasks.size())) { // the budget ended before their defaults were measured
                results.add(new TaskResult(t, null, null, List.of(), false, 0));
                listener.taskFinished(results.getLast(), results.size(), tasks.size());
            }
        } finally {
            for (Run r : runs) r.close();
        }
        return new Report(results, (nanoTime.getAsLong() - start) / 1e9, measurer.describe());
    }

    /**
     * Times the fastest candidate and the defaults again, back to back, and keeps the candidate
     * only if it beats the defaults by the margin in this round; the figures kept are this round's,
     * so a candidate that won the search by a lucky sample is judged fairly against the defaults.
     */
    private void confirm(Run r) {
        if (r.best == null || r.best.knobs().equals(r.defaults.knobs())) {
            r.best = r.defaults;
            return;
        }
        List<Measurement> again = r.session.measure(List.of(r.defaults.knobs(), r.best.knobs()), Double.POSITIVE_INFINITY);
        if (again.get(0) instanceof Measurement.Timed d && again.get(1) instanceof Measurement.Timed b) {
            r.defaults = d;
            r.best = b.ms() < d.ms() * (1 - settings.minGain()) ? b : d;
        } else {
            r.best = r.defaults; // refused when measured again: not to be trusted
        }
    }
}
