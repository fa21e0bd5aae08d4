package jmlc.engine.model;

/** Reports long work (loading, quantizing, compiling) to whoever shows it: a CLI bar, a notebook display. */
@FunctionalInterface
public interface Progress {

    /** {@code done} of {@code total} units (bytes, kernels ...) of {@code stage}. */
    void update(String stage, long done, long total);

    Progress NONE = (stage, done, total) -> { };
}
