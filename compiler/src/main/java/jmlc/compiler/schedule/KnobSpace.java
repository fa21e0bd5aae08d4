package jmlc.compiler.schedule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The knobs a rule exposes for one kernel signature (TVM dlight's tunable space): each knob's
 * default for this node and target, the values it may take and the ones a search tries, and the
 * rules that combinations must keep. Rules build one per node and {@link ScheduleContext#choose}
 * resolves it against the tuning database; the tuner walks {@link #combinations()}.
 */
public final class KnobSpace {
    private final KernelSignature signature;
    private final Map<String, Knob> knobs = new LinkedHashMap<>();
    private final List<Constraint> constraints = new ArrayList<>();
    private java.util.function.UnaryOperator<Map<String, Integer>> asUsed = java.util.function.UnaryOperator.identity();

    /** A rule over a combination of knob values, said in words for the error that breaks it. */
    public record Constraint(String description, Predicate<Map<String, Integer>> holds) {}

    public KnobSpace(KernelSignature signature) {
        this.signature = signature;
    }

    public KnobSpace add(Knob k) {
        if (knobs.putIfAbsent(k.name(), k) != null) throw new IllegalArgumentException("knob " + k.name() + " declared twice for " + signature);
        if (!k.allows(k.defaultValue())) throw new IllegalStateException(signature + ": the default " + k.name() + "=" + k.defaultValue() + " is not among its allowed values " + k.describeAllowed());
        return this;
    }

    /** Combinations must satisfy {@code holds}; {@code description} says what it requires. */
    public KnobSpace require(String description, Predicate<Map<String, Integer>> holds) {
        constraints.add(new Constraint(description, holds));
        return this;
    }

    /**
     * How the rule reads a combination: where one knob's value makes another's moot (a ring the other knobs rule out
     * compiles as the register loop), {@code asUsed} gives the values the kernel is built with, as
     * {@link ScheduleContext#choose} records them.
     */
    public KnobSpace usedAs(java.util.function.UnaryOperator<Map<String, Integer>> asUsed) {
        this.asUsed = asUsed;
        return this;
    }

    /** {@code values} as the rule uses them ({@link #usedAs}; the values themselves unless the rule said otherwise). */
    public Map<String, Integer> asUsed(Map<String, Integer> values) {
        return asUsed.apply(values);
    }

    public KernelSignature signature() {
        return signature;
    }

    public List<Knob> knobs() {
        return List.copyOf(knobs.values());
    }

    public Map<String, Integer> defaults() {
        Map<String, Integer> d = new LinkedHashMap<>();
        knobs.values().forEach(k -> d.put(k.name(), k.defaultValue()));
        return d;
    }

    /**
     * The defaults with {@code overrides} applied, checked: a knob the rule does not have, a value
     * it does not allow, or a combination that breaks a constraint is an {@link InvalidKnobException}
     * naming the kernel, the knob, the value and what is allowed.
     */
    public Map<String, Integer> resolve(Map<String, Integer> overrides) {
        Map<String, Integer> v = defaults();
        for (var e : overrides.entrySet()) {
            Knob k = knobs.get(e.getKey());
            if (k == null)
                throw new InvalidKnobException(signature, "kernel " + signature + " has no knob '" + e.getKey() + "'; its knobs are " + String.join(", ", knobs.keySet()));
            if (!k.allows(e.getValue()))
                throw new InvalidKnobException(signature, "kernel " + signature + ": knob " + k.name() + "=" + e.getValue() + " is not allowed; allowed: " + k.describeAllowed()
                        + " (" + k.doc() + ")");
            v.put(e.getKey(), e.getValue());
        }
        for (Constraint c : constraints)
            if (!c.holds().test(v)) {
                String values = v.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
                if (overrides.isEmpty()) throw new IllegalStateException(signature + ": the rule's own defaults (" + values + ") break '" + c.description() + "'");
                throw new InvalidKnobException(signature, "kernel " + signature + ": knobs " + values + " break the rule '" + c.description() + "'");
            }
        return v;
    }

    /** Whether a combination satisfies every constraint and each value is allowed. */
    public boolean valid(Map<String, Integer> values) {
        try {
            resolve(values);
            return true;
        } catch (InvalidKnobException e) {
            return false;
        }
    }

    /** Every combination of the knobs' candidates that keeps the constraints, defaults first. */
    public List<Map<String, Integer>> combinations() {
        List<Map<String, Integer>> out = new ArrayList<>();
        out.add(defaults());
        List<Knob> list = knobs();
        int[] idx = new int[list.size()];
        while (true) {
            Map<String, Integer> c = new LinkedHashMap<>();
            for (int i = 0; i < list.size(); i++) c.put(list.get(i).name(), list.get(i).candidates().get(idx[i]));
            if (!c.equals(out.getFirst()) && constraints.stream().allMatch(k -> k.holds().test(c))) out.add(c);
            int i = 0;
            while (i < idx.length && ++idx[i] == list.get(i).candidates().size()) idx[i++] = 0;
            if (i == idx.length) return out;
        }
    }

    /** The number of combinations a search over the candidates would try (before constraints). */
    public long candidateCount() {
        long n = 1;
        for (Knob k : knobs.values()) n *= k.candidates().size();
        return n;
    }

    @Override
    public String toString() {
        return signature + " " + knobs.values().stream().map(k -> k.name() + "=" + k.defaultValue() + " [" + k.describeAllowed() + "]").collect(Collectors.joining(" "));
    }
}
