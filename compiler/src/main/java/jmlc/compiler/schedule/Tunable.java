package jmlc.compiler.schedule;

import java.util.Map;

/** A knob space a rule resolved while scheduling a node, and the values it chose: what a tuner searches and records. */
public record Tunable(KnobSpace space, Map<String, Integer> chosen) {
    public Tunable {
        chosen = Map.copyOf(chosen);
    }
}
