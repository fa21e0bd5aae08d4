package jmlc.compiler.ir;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link Graph}: declare inputs, params and states, then apply ops in execution order.
 *
 * <p>Passes rewrite a graph with {@link #from(Graph)}: it copies the inputs, params and states
 * (same value objects), and the pass then re-emits the nodes it keeps with {@link #copy(Node)}
 * and emits new ones with {@link #apply}; {@link #map(Value)} translates old values to new.
 */
public final class GraphBuilder {
    private final String name;
    private final List<Value> inputs = new ArrayList<>();
    private final List<Value> params = new ArrayList<>();
    /** Param name -> its index in {@link #params}: a model may have thousands of params, so no scans. */
    private final Map<String, Integer> paramIndex = new HashMap<>();
    private final List<Value> states = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<Value> outputs = new ArrayList<>();
    private final Map<Value, Graph.WeightSource> weightSources = new LinkedHashMap<>();
    private final Map<Value, Value> stateUpdates = new LinkedHashMap<>();
    private final Map<Value, Value> mapping = new IdentityHashMap<>();
    private Graph source;
    private int nextId;

    public GraphBuilder(String name) {
        this.name = name;
    }

    /** Starts a rewrite of {@code g}: same name, inputs, params and states; no nodes yet. */
    public static GraphBuilder from(Graph g) {
        GraphBuilder b = new GraphBuilder(g.name());
        b.source = g;
        b.nextId = g.nextId();
        b.inputs.addAll(g.inputs());
        b.states.addAll(g.states());
        for (Value p : g.params()) {
            b.paramIndex.put(p.name(), b.params.size());
            b.params.add(p);
            b.weightSources.put(p, g.weightSource(p));
        }
        return b;
    }

    public Value input(String name, TensorType type) {
        Value v = new Value(nextId++, name, type, Value.Kind.INPUT);
        inputs.add(v);
        return v;
    }

    /** A weight made from the checkpoint tensor of the same name. */
    public Value param(String name, TensorType type) {
        return param(name, type, new Graph.WeightSource(List.of(name)));
    }

    /** A weight made from {@code source}'s tensors, concatenated along their first dimension. */
    public Value param(String name, TensorType type, Graph.WeightSource source) {
        if (paramIndex.containsKey(name)) throw new IllegalArgumentException("graph " + this.name + " already has a param named " + name);
        Value v = new Value(nextId++, name, type, Value.Kind.PARAM);
        paramIndex.put(name, params.size());
        params.add(v);
        weightSources.put(v, source);
        return v;
    }

    /** Replaces a param by one with another row layout of its sources; nodes must be re-emitted against the new value. */
    public Value replaceParam(Value old, TensorType type, Graph.WeightSource source) {
        Value v = replaceParam(old, type);
        weightSources.put(v, source);
        return v;
    }

    /** Replaces a param by one of another type (quantization); nodes must be re-emitted against the new value. */
    public Value replaceParam(Value old, TensorType type) {
        Integer i = paramIndex.get(old.name());
        if (i == null || !params.get(i).equals(old)) throw new IllegalArgumentException(old + " is not a param");
        Value v = new Value(nextId++, old.name(), type, Value.Kind.PARAM);
        params.set(i, v);
        weightSources.put(v, weightSources.remove(old));
        mapping.put(old, v);
        return v;
    }

    public Value state(String name, TensorType type) {
        Value v = new Value(nextId++, name, type, Value.Kind.STATE);
        states.add(v);
        return v;
    }

    /** Applies a single-output op; its output is named {@code valueName}. */
    public Value apply(String valueName, Op op, Value... in) {
        List<Value> outs = applyMulti(valueName, op, in);
        if (outs.size() != 1) throw new IllegalArgumentException(op.name() + " has " + outs.size() + " outputs: use applyMulti");
        return outs.getFirst();
    }

    /** Applies an op with any number of outputs, named {@code valueName}, {@code valueName.1}, ... */
    public List<Value> applyMulti(String valueName, Op op, Value... in) {
        List<Value> inputs = Arrays.asList(in);
        List<TensorType> types;
        try {
            types = op.infer(inputs.stream().map(Value::type).toList());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("graph " + name + ", building '" + valueName + "': " + e.getMessage(), e);
        }
        List<Value> outs = new ArrayList<>();
        for (int i = 0; i < types.size(); i++)
            outs.add(new Value(nextId++, i == 0 ? valueName : valueName + "." + i, types.get(i), Value.Kind.TEMP));
        nodes.add(new Node(op, inputs, outs));
        return outs;
    }

    /** The value that stands for {@code old} (a value of the graph being rewritten) in the new graph. */
    public Value map(Value old) {
        Value v = mapping.get(old);
        if (v != null) return v;
        if (old.kind() != Value.Kind.TEMP) return old;
        throw new IllegalStateException("value " + old + " of graph " + name + " has not been emitted in the rewrite yet");
    }

    /** Declares that {@code newValue} replaces {@code old} for later {@link #map} calls. */
    public void alias(Value old, Value newValue) {
        mapping.put(old, newValue);
    }

    /** Re-emits a node of the graph being rewritten, mapping its inputs; returns the new node. */
    public Node copy(Node n) {
        Value[] in = n.inputs().stream().map(this::map).toArray(Value[]::new);
        boolean same = Arrays.asList(in).equals(n.inputs());
        if (same) {
            nodes.add(n);
            for (Value o : n.outputs()) mapping.put(o, o);
            return n;
        }
        List<Value> outs = applyMulti(n.output(0).name(), n.op(), in);
        for (int i = 0; i < outs.size(); i++) mapping.put(n.output(i), outs.get(i));
        return nodes.getLast();
    }

    public void updateState(Value state, Value newValue) {
        if (!states.contains(state)) throw new IllegalArgumentException(state + " is not a state of graph " + name);
        stateUpdates.put(state, newValue);
    }

    public void output(Value v) {
        outputs.add(v);
    }

    /** Finishes a rewrite: outputs and state updates of the source graph, mapped. */
    public Graph finishRewrite() {
        if (source == null) throw new IllegalStateException("finishRewrite() is for builders made by from(graph)");
        for (Value o : source.outputs()) outputs.add(map(o));
        for (var e : source.stateUpdates().entrySet()) stateUpdates.put(e.getKey(), map(e.getValue()));
        return build();
    }

    /** Builds and verifies the graph; params no node reads are dropped. */
    public Graph build() {
        Graph draft = new Graph(name, inputs, params, states, nodes, outputs, weightSources, stateUpdates, nextId);
        List<Value> used = params.stream().filter(draft::isLive).toList();
        Map<Value, Graph.WeightSource> usedSources = new LinkedHashMap<>();
        for (Value p : used) usedSources.put(p, weightSources.get(p));
        return new Graph(name, inputs, used, states, nodes, outputs, usedSources, stateUpdates, nextId).verify();
    }
}
