package jmlc.engine.bench;

import java.util.List;
import java.util.Locale;

/**
 * Mean and sample standard deviation of repeated measurements, as llama-bench reports its timed
 * runs ({@code avg ± stddev}); {@code n} is how many there were (one run has no spread: 0).
 */
public record Spread(double mean, double stddev, int n) {

    public static Spread of(List<Double> values) {
        int n = values.size();
        if (n == 0) throw new IllegalArgumentException("no measurements");
        double mean = values.stream().mapToDouble(Double::doubleValue).sum() / n;
        double squares = values.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum();
        return new Spread(mean, n > 1 ? Math.sqrt(squares / (n - 1)) : 0, n);
    }

    /** {@code 1234.5 ± 6.7}, or {@code 1234.5} for a single measurement. */
    public String format() {
        return n > 1 ? String.format(Locale.ROOT, "%.1f ± %.1f", mean, stddev) : String.format(Locale.ROOT, "%.1f", mean);
    }
}
