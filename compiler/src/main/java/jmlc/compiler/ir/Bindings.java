package jmlc.compiler.ir;

import java.util.LinkedHashMap;
import java.util.Map;

/** Values of symbolic dimensions for one run of a graph, e.g. {@code seq=1}. */
public final class Bindings {
    private final Map<String, Long> values = new LinkedHashMap<>();

    public static Bindings of(String name, long value) {
        return new Bindings().with(name, value);
    }

    public Bindings with(String name, long value) {
        values.put(name, value);
        return this;
    }

    public long get(String name) {
        Long v = values.get(name);
        if (v == null) throw new IllegalStateException("symbolic dimension '" + name + "' is not bound (bound: " + values.keySet() + ")");
        return v;
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
