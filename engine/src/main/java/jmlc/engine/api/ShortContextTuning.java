package jmlc.engine.api;

import jmlc.compiler.build.ShortContextDecode;
import jmlc.compiler.schedule.KnobSpace;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.tune.TuningRecord;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.Progress;
import jmlc.engine.model.SyntheticWeights;
import jmlc.engine.runtime.DeviceIdentity;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.gpu.GpuBackend;
import jmlc.engine.runtime.gpu.GpuDiagnostics;
import jmlc.engine.runtime.gpu.GpuRunner;
import jmlc.engine.tuning.TuningDatabase;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The tuning stage that sets where the short-context decode program hands over to the split attention
 * ({@link ShortContextDecode}, knob {@code positions}): the position from which one attention block per KV
 * head, without a combine kernel, reads the context slower than the split attention with its combine. That
 * crossover is the card's and the model's (H100, 2026-12-06: about 340 for Llama-2-7B, 70 for Llama-3-8B, 620
 * for Llama-2-13B; the H200 had 13B's at 185 before the one block prefetched its rows), so a per-KV-head default
 * cannot hit every pair; the per-kernel search cannot see it either, since it is a choice between whole programs.
 *
 * <p>After the other stages the model is loaded with the database as it stands and both decode programs captured at
 * every position; one captured step of each is timed at {@link #POINTS} positions from 0 up to the context or
 * {@link #HORIZON}, and the threshold kept is the one that makes those steps take least in all ({@link #best}), where
 * it beats the database's by {@link #MIN_GAIN} ({@link #kept}). The
 * entry is the attention shape's, so each model on the card keeps its own. Weights are random: a step's time does
 * not depend on their values.
 */
public final class ShortContextTuning {
    private ShortContextTuning() {}

    /** Positions timed at most, and the last position timed at most (beyond, the split attention). */
    static final int POINTS = 32, HORIZON = 1024;
    /** Positions between two timed ones at least (a tiny model's short context is timed at a few). */
    static final int MIN_STRIDE = 8;
    /** Replays of a captured step a timing (after one untimed). */
    static final int REPLAYS = 10;
    /**
     * The threshold the database gave stays unless another makes the steps timed this much faster in all: once the
     * attention is tuned the thresholds near the crossover differ by less than a timing's noise (H100, 2026-12-06: 13B
     * 3.2367 ms a step with 160 against 3.2395 with 400), and a choice within it would only churn the database.
     */
    static final double MIN_GAIN = 1.001;

    /** One captured decode step of each program (ms) at each position timed. */
    public record Sweep(int[] positions, double[] splitMs, double[] oneBlockMs) {
        /** Mean step time over the positions timed, where those below {@code threshold} run the one-block program. */
        public double meanMs(int threshold) {
            double s = 0;
            for (int i = 0; i < positions.length; i++) s += positions[i] < threshold ? oneBlockMs[i] : splitMs[i];
            return s / positions.length;
        }
    }

    /** The threshold kept, the one the database gave before (or the default), the fastest timed, and the timings. */
    public record Choice(String signature, int positions, int before, int best, Sweep sweep) {
        public List<String> lines() {
            List<String> l = new ArrayList<>();
            l.add(String.format(Locale.ROOT, "short-context decode (one attention block a KV head, no combine) below position %d (was %d%s):", positions, before,
                    best == positions ? "" : "; the fastest timed, " + best + ", is within 0.1% of it"));
            StringBuilder pos = new StringBuilder("  position     "), split = new StringBuilder("  split, ms    "), one = new StringBuilder("  one block, ms");
            int every = Math.max(1, sweep.positions().length / 8);
            for (int i = 0; i < sweep.positions().length; i += every) {
                pos.append(String.format(Locale.ROOT, " %7d", sweep.positions()[i]));
                split.append(String.format(Locale.ROOT, " %7.4f", sweep.splitMs()[i]));
                one.append(String.format(Locale.ROOT, " %7.4f", sweep.oneBlockMs()[i]));
            }
            l.add(pos.toString());
            l.add(split.toString());
            l.add(one.toString());
            l.add(String.format(Locale.ROOT, "  mean step over positions %d to %d: %.4f ms with %d, %.4f with %d", sweep.positions()[0],
                    sweep.positions()[sweep.positions().length - 1], sweep.meanMs(positions), positions, sweep.meanMs(before), before));
            return l;
        }
    }

    /**
     * The threshold among 0 and the positions timed (each standing for the stride after it) whose steps take least in
     * all; the lowest where several tie (fewer steps on the program whose time grows with the position).
     */
    static int best(Sweep s) {
        int best = 0;
        double bestMs = s.meanMs(0);
        for (int i = 1; i <= s.positions().length; i++) {
            int t = i < s.positions().length ? s.positions()[i] : s.positions()[i - 1] + (i > 1 ? s.positions()[i - 1] - s.positions()[i - 2] : 1);
            double ms = s.meanMs(t);
            if (ms < bestMs) {
                best = t;
                bestMs = ms;
            }
        }
        return best;
    }

    /** {@code best} (the sweep's {@link #best}), or {@code before} where that is within {@link #MIN_GAIN} of it. */
    static int kept(Sweep s, int best, int before) {
        return s.meanMs(before) > MIN_GAIN * s.meanMs(best) ? best : before;
    }

    /** The positions timed for a context of {@code context} positions: 0, then a stride apart, at most {@link #POINTS}. */
    static int[] positions(int context) {
        int last = Math.min(context - 1, HORIZON - 1);
        int stride = Math.max(MIN_STRIDE, (last + POINTS) / POINTS);
        int n = last / stride + 1;
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i * stride;
        return p;
    }

    /**
     * Runs the stage for {@code model} on {@code backend}'s {@code device} and saves the threshold in {@code device}'s
     * database in {@code dir}; empty where the model has no decode attention or the target no short-context program.
     */
    public static Optional<Choice> run(CompiledModel model, GpuBackend backend, jmlc.engine.runtime.DeviceInfo device, Path dir, DeviceIdentity identity,
                                       String measured, Consumer<String> progress) {
        var target = jmlc.compiler.target.Target.parse(identity.target());
        Optional<KnobSpace> space = ShortContextDecode.space(target, model.graph());
        if (space.isEmpty()) return Optional.empty();
        KnobSpace s = space.get();
        int context = s.knobs().stream().filter(k -> k.name().equals("positions")).findFirst().orElseThrow().max();
        Knobs held = TuningDatabase.read(TuningDatabase.file(dir, identity), identity).knobs();
        int before = ShortContextDecode.positions(held, target, model.graph());
        Knobs knobs = Knobs.defaults().with(held).put(s.signature(), Map.of("positions", context)); // both programs at every position
        progress.accept("short-context decode: timing both decode programs");
        int[] at = positions(context);
        double[] split = new double[at.length], one = new double[at.length];
        try (SyntheticWeights w = new SyntheticWeights(model.graph(), 7, Progress.NONE);
             GpuRunner r = backend.load(model, w, device, RuntimeSettings.defaults(), knobs, Progress.NONE)) {
            if (r.build().shortDecode() == null) return Optional.empty();
            GpuDiagnostics d = new GpuDiagnostics(r);
            for (int i = 0; i < at.length; i++) {
                split[i] = d.decodeStepMillisAt(at[i], false, REPLAYS);
                one[i] = d.decodeStepMillisAt(at[i], true, REPLAYS);
            }
        }
        Sweep sweep = new Sweep(at, split, one);
        int best = best(sweep), kept = kept(sweep, best, before);
        TuningRecord record = new TuningRecord(s.signature().toString(), Map.of("positions", kept), sweep.meanMs(kept), sweep.meanMs(before),
                at.length + 1, 0, true, "one captured decode step of each program at positions 0 to " + at[at.length - 1], 1, measured,
                "chosen for the decode step: the threshold whose steps over the positions timed take least");
        DecodeStepTuning.save(dir, identity, List.of(record));
        return Optional.of(new Choice(record.signature(), kept, before, best, sweep));
    }
}
