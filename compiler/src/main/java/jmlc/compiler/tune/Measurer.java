package jmlc.compiler.tune;

import java.util.List;
import java.util.Map;

/**
 * Measures candidates of a task on one device: what each runtime supplies (the GPU measurer over
 * any {@code GpuDevice}, the CPU's). The tuner knows no device; it only asks for measurements.
 *
 * <p>A measurer must, for each candidate, compile the task's region with the candidate's knobs
 * through the one compile path, run it on inputs for which the reference interpreter's outputs are
 * known, refuse it ({@link Measurement.Rejected}) when they differ beyond the rule's tolerance, and
 * only then time it: warm-up, the median of repeats, weights in enough copies that a cache cannot
 * hold them. A candidate far slower than {@code bestMs} may be cut short after one sample.
 */
public interface Measurer {

    /** How this measurer times, for the database's records: device, clock, repeats, rotation, check. */
    String describe();

    /** Prepares a task (weights, inputs, the reference outputs); closing it frees what it holds. */
    Session open(TuningTask task);

    /** One task's measurements. */
    interface Session extends AutoCloseable {
        /**
         * Measures {@code candidates} (whole knob maps, each valid for the task's space), in order;
         * a measurer may compile them in parallel first.
         *
         * @param bestMs the best time found so far for this task ({@code Double.POSITIVE_INFINITY}: none yet)
         */
        List<Measurement> measure(List<Map<String, Integer>> candidates, double bestMs);

        @Override
        void close();
    }
}
