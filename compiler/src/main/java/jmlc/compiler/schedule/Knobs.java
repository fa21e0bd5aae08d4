package jmlc.compiler.schedule;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Knob values over the rules' defaults, per kernel signature: what the tuning database holds, or
 * what a caller sets. An entry is keyed by a signature's key for every target ({@code
 * gemvh_q4f16g32z7_4096x4096}) or for one ({@code gemvh_q4f16g32z7_4096x4096@cuda:sm_90}); for a
 * signature, the target's own entry wins knob by knob. Rules read it only through
 * {@link ScheduleContext#choose}, which checks each value against the rule's {@link KnobSpace}.
 */
public final class Knobs {
    private final Map<String, Map<String, Integer>> entries = new LinkedHashMap<>();

    public static Knobs defaults() {
        return new Knobs();
    }

    /** Sets knob values for a signature key, with or without {@code @target}; later calls add to earlier ones. */
    public Knobs put(String signatureKey, Map<String, Integer> values) {
        entries.computeIfAbsent(signatureKey, k -> new LinkedHashMap<>()).putAll(values);
        return this;
    }

    /**
     * Sets {@code values} for every kernel of rule kind {@code kind} ({@code gemvh}) that {@code program} tunes, each for
     * its own signature (its target only): e.g. one knob laid over every f16 GEMV of a model's decode program.
     */
    public Knobs putEvery(String kind, Program program, Map<String, Integer> values) {
        for (Tunable t : program.tunables())
            if (t.space().signature().kind().equals(kind)) put(t.space().signature(), values);
        return this;
    }

    /** Sets knob values for exactly this signature (its target only). */
    public Knobs put(KernelSignature signature, Map<String, Integer> values) {
        return put(signature.toString(), values);
    }

    /** The values set for {@code signature}: those for every target, overridden by the target's own. */
    public Map<String, Integer> values(KernelSignature signature) {
        Map<String, Integer> v = new LinkedHashMap<>(entries.getOrDefault(signature.key(), Map.of()));
        v.putAll(entries.getOrDefault(signature.toString(), Map.of()));
        return v;
    }

    /** Every entry, by signature key. */
    public Map<String, Map<String, Integer>> entries() {
        Map<String, Map<String, Integer>> m = new LinkedHashMap<>();
        entries.forEach((k, v) -> m.put(k, Map.copyOf(v)));
        return m;
    }

    /** A copy without the entries for {@code signature} (for every target and for its own). */
    public Knobs without(KernelSignature signature) {
        Knobs k = new Knobs();
        entries.forEach((key, v) -> {
            if (!key.equals(signature.key()) && !key.equals(signature.toString())) k.put(key, v);
        });
        return k;
    }

    /** Whether no entry is set. */
    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** A copy with {@code other}'s entries laid over this one's. */
    public Knobs with(Knobs other) {
        Knobs k = new Knobs();
        entries.forEach(k::put);
        other.entries.forEach(k::put);
        return k;
    }
}
