package jmlc.engine.model;

/** Reports long work (loading, quantizing, compiling) to whoever shows it: a CLI bar, a notebook display. */
@FunctionalInterface
public interface Progress {

    /** {@code done} of {@code total} units (bytes, kernels ...) of {@code stage}. */
    void update(String stage, long done, long total);

    /**
     * Something the user should know that does not stop the work (a tuning database that cannot be
     * used, so the rules' defaults are). Shown on stderr unless the display has a place for it.
     */
    default void warn(String message) {
        System.err.println("jmlc: warning: " + message);
    }

    Progress NONE = (stage, done, total) -> { };
}
