package jmlc.compiler.tune;

import java.util.List;
import java.util.Map;

/**
 * What tuning one task found.
 *
 * @param defaults   the rule's defaults, timed (null when they were refused or the budget ran out first)
 * @param best       the candidate kept: the fastest, if it beat the defaults by the tuner's margin
 *                   when both were timed again back to back; else the defaults
 * @param all        every measurement, in the order taken (the distribution a chart shows)
 * @param exhausted  every valid combination of the space was measured
 * @param seconds    wall time spent on the task
 */
public record TaskResult(TuningTask task, Measurement.Timed defaults, Measurement.Timed best, List<Measurement> all, boolean exhausted, double seconds) {

    public TaskResult {
        all = List.copyOf(all);
    }

    /** Whether a candidate other than the defaults was kept. */
    public boolean improved() {
        return defaults != null && best != null && !best.knobs().equals(defaults.knobs());
    }

    /** The defaults' time over the best's (1: no gain). */
    public double gain() {
        return defaults == null || best == null ? 1 : defaults.ms() / best.ms();
    }

    /** Step milliseconds saved: time saved per use times the uses. */
    public double savedMs() {
        return defaults == null || best == null ? 0 : (defaults.ms() - best.ms()) * task.uses();
    }

    public long timedCount() {
        return all.stream().filter(m -> m instanceof Measurement.Timed).count();
    }

    public long rejectedCount() {
        return all.stream().filter(m -> m instanceof Measurement.Rejected).count();
    }

    /** The best knob values in the space's order, as {@code warps=8 rows_per_warp=4}. */
    public String describeBest() {
        return best == null ? "-" : describe(best.knobs());
    }

    /** Knob values in the space's order. */
    public String describe(Map<String, Integer> knobs) {
        StringBuilder sb = new StringBuilder();
        for (var k : task.space().knobs()) sb.append(sb.isEmpty() ? "" : " ").append(k.name()).append('=').append(knobs.get(k.name()));
        return sb.toString();
    }
}
