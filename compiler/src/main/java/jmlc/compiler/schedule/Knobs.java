package jmlc.compiler.schedule;

import java.util.HashMap;
import java.util.Map;

/**
 * Knob values for rules: the per-target defaults (one place, with where they were measured),
 * overridden per kernel signature by the tuning database. A rule asks
 * {@code knobs.get(signature, "rows", default)}.
 */
public final class Knobs {
    private final Map<String, Map<String, Integer>> tuned = new HashMap<>();

    public static Knobs defaults() {
        return new Knobs();
    }

    /** Records the best knobs found for a kernel signature (from a tuning database). */
    public Knobs put(String signature, Map<String, Integer> values) {
        tuned.put(signature, Map.copyOf(values));
        return this;
    }

    public int get(String signature, String knob, int fallback) {
        Map<String, Integer> m = tuned.get(signature);
        return m != null && m.containsKey(knob) ? m.get(knob) : fallback;
    }

    public Map<String, Map<String, Integer>> tuned() {
        return Map.copyOf(tuned);
    }
}
