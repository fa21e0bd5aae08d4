package jmlc.engine.runtime;

import jmlc.compiler.tune.Measurer;
import jmlc.compiler.tune.TuningTask;

import java.util.List;
import java.util.function.Predicate;

/**
 * What tuning a model on one device takes, as its backend provides it ({@link Backend#tuning}):
 * the device's identity (its database), the tasks (each kernel signature's knob space, over the
 * values the database holds now), and the measurer that runs candidates on the device. Closing it
 * closes the device the measurer holds.
 */
public record TuningSetup(DeviceIdentity device, List<TuningTask> tasks, Measurer measurer, AutoCloseable resources) implements AutoCloseable {

    public TuningSetup {
        tasks = List.copyOf(tasks);
    }

    /**
     * Which tasks, and how they are timed.
     *
     * @param prefillTokens  the prompt length prefill kernels are timed at (512: the benchmark's)
     * @param decodePosition the context decode kernels are timed at (256: the seed protocol's mean position)
     * @param include        the signatures to tune ({@code kind_shape@target})
     */
    public record Options(int prefillTokens, int decodePosition, Predicate<String> include) {
        public static Options defaults() {
            return new Options(512, 256, s -> true);
        }
    }

    @Override
    public void close() {
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the device after tuning: " + e.getMessage(), e);
        }
    }
}
