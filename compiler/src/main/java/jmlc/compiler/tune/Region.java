package jmlc.compiler.tune;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphBuilder;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Value;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A few nodes of a model's graph cut out as a graph of their own, so one kernel's knobs can be
 * compiled, checked and timed without the rest of the model (TVM MetaSchedule's extracted tasks).
 * What the nodes read from outside becomes an input named after the value; the params and states
 * they use stay (with their weight sources); {@code tokens} and {@code pos} are always inputs; the
 * outputs are what the rest of the model reads, and the caches the nodes update stay state updates.
 * The region is built through {@link GraphBuilder}, so it verifies like any graph; every rule sees
 * the same nodes, shapes and types, hence the same kernel signatures.
 */
public final class Region {
    private Region() {}

    /** Cuts {@code nodes} (in the graph's order) out of {@code g} as a graph named {@code name}. */
    public static Graph extract(Graph g, List<Node> nodes, String name) {
        Set<Node> inside = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        inside.addAll(nodes);
        List<Node> ordered = g.nodes().stream().filter(inside::contains).toList();
        if (ordered.size() != inside.size()) throw new IllegalArgumentException("region " + name + ": some nodes are not in graph " + g.name());
        Set<Value> produced = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Node n : ordered) produced.addAll(n.outputs());

        GraphBuilder b = new GraphBuilder(name);
        Map<Value, Value> declared = new IdentityHashMap<>();
        for (String in : List.of("tokens", "pos")) declare(b, g, g.input(in), declared);
        for (Node n : ordered)
            for (Value v : n.inputs())
                if (!produced.contains(v) && !declared.containsKey(v)) declare(b, g, v, declared);
        for (Node n : ordered) b.copy(n);

        Set<Value> outputs = new LinkedHashSet<>();
        for (Node n : ordered)
            for (Value o : n.outputs()) {
                if (g.stateUpdates().containsValue(o)) continue;
                boolean readOutside = g.outputs().contains(o) || g.users(o).stream().anyMatch(u -> !inside.contains(u));
                if (readOutside) outputs.add(o);
            }
        if (outputs.isEmpty()) // nothing read outside (caches updated in place): still a first output, which the compile path needs
            ordered.getLast().outputs().stream().filter(o -> !g.stateUpdates().containsValue(o)).findFirst().ifPresent(outputs::add);
        if (outputs.isEmpty()) throw new IllegalArgumentException("region " + name + " has no output but cache updates");
        for (Value o : outputs) b.output(b.map(o));
        for (var e : g.stateUpdates().entrySet())
            if (produced.contains(e.getValue())) {
                if (!declared.containsKey(e.getKey())) declare(b, g, e.getKey(), declared);
                b.updateState(declared.get(e.getKey()), b.map(e.getValue()));
            }
        return b.build();
    }

    /** Declares {@code v} of {@code g} in the region: a param with its source, a state, or an input. */
    private static void declare(GraphBuilder b, Graph g, Value v, Map<Value, Value> declared) {
        Value nv = switch (v.kind()) {
            case PARAM -> b.param(v.name(), v.type(), g.weightSource(v));
            case STATE -> b.state(v.name(), v.type());
            case INPUT, TEMP -> b.input(inputName(v, declared), v.type());
        };
        declared.put(v, nv);
        b.alias(v, nv);
    }

    private static String inputName(Value v, Map<Value, Value> declared) {
        if (v.kind() == Value.Kind.INPUT) return v.name();
        List<String> taken = new ArrayList<>();
        for (Value d : declared.values()) taken.add(d.name());
        String n = v.name();
        for (int i = 2; taken.contains(n); i++) n = v.name() + "_" + i;
        return n;
    }
}
