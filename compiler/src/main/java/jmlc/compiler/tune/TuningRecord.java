package jmlc.compiler.tune;

import java.util.Map;

/**
 * A tuning database entry: the best knob values found for one kernel signature on one device,
 * their time and the defaults' time, and when and how they were measured.
 *
 * @param signature  {@code kind_shape@target}
 * @param knobs      the values to compile with (the defaults' values when nothing beat them)
 * @param bestMs     their device time for one run of the kernel's region
 * @param defaultMs  the rule defaults' time, measured in the same run
 * @param candidates candidates timed; {@code rejected}: refused (failed to compile or the reference check)
 * @param exhausted  every valid combination of the space was measured
 * @param timedAs    {@code decode at position 256} / {@code prefill of 512 tokens}
 * @param uses       launches a step of the model tuned for
 * @param measured   when (ISO-8601, UTC)
 * @param how        the measurer's description: device, clock, repeats, rotation, check
 */
public record TuningRecord(String signature, Map<String, Integer> knobs, double bestMs, double defaultMs, int candidates, int rejected,
                           boolean exhausted, String timedAs, int uses, String measured, String how) {

    public TuningRecord {
        knobs = Map.copyOf(knobs);
    }

    public double gain() {
        return bestMs > 0 ? defaultMs / bestMs : 1;
    }

    /** The entry for what tuning {@code r} found, measured at {@code measured} by {@code how}. */
    public static TuningRecord of(TaskResult r, String measured, String how) {
        return new TuningRecord(r.task().signature().toString(), r.best().knobs(), r.best().ms(), r.defaults().ms(), (int) r.timedCount(),
                (int) r.rejectedCount(), r.exhausted(), r.task().timedAs(), r.task().uses(), measured, how);
    }
}
