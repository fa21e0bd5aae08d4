package jmlc.compiler.schedule;

import java.util.List;
import java.util.stream.Collectors;

/**
 * One tunable choice of a schedule rule: its name, its default for this kernel, the values it may
 * take ({@code allowed}: a set, or a range), and the values a tuner tries ({@code candidates}).
 *
 * @param allowed    the only values allowed; empty when {@code min..max} is the rule
 * @param candidates what a search tries (always within the allowed values; includes the default)
 */
public record Knob(String name, int defaultValue, List<Integer> allowed, int min, int max, List<Integer> candidates, String doc) {

    public Knob {
        allowed = List.copyOf(allowed);
        if (!name.matches("[a-z][a-z0-9_]*")) throw new IllegalArgumentException("knob names are lowercase words: '" + name + "'");
        List<Integer> allowedValues = allowed;
        java.util.TreeSet<Integer> tried = new java.util.TreeSet<>();
        for (int v : candidates) if (v >= min && v <= max && (allowedValues.isEmpty() || allowedValues.contains(v))) tried.add(v);
        tried.add(defaultValue);
        candidates = List.copyOf(tried);
    }

    /** A knob that takes one of {@code values}, all of which a search tries. */
    public static Knob oneOf(String name, int defaultValue, String doc, int... values) {
        List<Integer> v = java.util.Arrays.stream(values).boxed().toList();
        return new Knob(name, defaultValue, v, Integer.MIN_VALUE, Integer.MAX_VALUE, v, doc);
    }

    /** A knob that takes any value in {@code min..max}; a search tries {@code candidates}. */
    public static Knob range(String name, int defaultValue, int min, int max, String doc, int... candidates) {
        return new Knob(name, defaultValue, List.of(), min, max, java.util.Arrays.stream(candidates).boxed().toList(), doc);
    }

    /** This knob with a search narrowed to {@code values} (the default stays a candidate). */
    public Knob tryOnly(int... values) {
        return new Knob(name, defaultValue, allowed, min, max, java.util.Arrays.stream(values).boxed().toList(), doc);
    }

    public boolean allows(int v) {
        return v >= min && v <= max && (allowed.isEmpty() || allowed.contains(v));
    }

    /** The allowed values as people read them: {@code 1, 2, 4} or {@code 1..64}. */
    public String describeAllowed() {
        if (!allowed.isEmpty()) return allowed.stream().map(String::valueOf).collect(Collectors.joining(", "));
        return (min == Integer.MIN_VALUE ? "" : min) + ".." + (max == Integer.MAX_VALUE ? "" : max);
    }
}
