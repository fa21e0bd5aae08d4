package jmlc.engine.bench;

/**
 * How many untimed warm-up runs a benchmark makes before its timed ones: a number the user gave,
 * or by default one run and then more until {@link #AUTO_SECONDS} have passed. A GPU is warm after
 * one run (its kernels loaded); on the CPU the JIT goes on compiling the hot loops for the first
 * seconds, whatever the runs' length, so a single short run leaves later runs faster than earlier
 * ones (measured on synthetic:tiny: 64-token runs were 2x faster after 4 warm-up runs than after 1).
 *
 * @param runs the warm-up runs to make, or null for the default
 */
public record WarmUp(Integer runs) {
    public static final double AUTO_SECONDS = 3;

    public WarmUp {
        if (runs != null && runs < 0) throw new IllegalArgumentException("warm-up runs must be 0 or more, found " + runs);
    }

    public static WarmUp auto() {
        return new WarmUp(null);
    }

    /** Whether to make another warm-up run, after {@code done} runs that took {@code nanos} in all. */
    public boolean another(int done, long nanos) {
        return runs != null ? done < runs : done < 1 || nanos < AUTO_SECONDS * 1e9;
    }

    /** {@code 2 warm-up runs}, or {@code warm-up runs for at least 3 s}. */
    public String describe() {
        return runs != null ? runs + " warm-up run" + (runs == 1 ? "" : "s") : "warm-up runs for at least " + (int) AUTO_SECONDS + " s";
    }
}
