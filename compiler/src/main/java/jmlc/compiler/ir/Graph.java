package jmlc.compiler.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model step as a dataflow graph: nodes in execution (topological) order over SSA values.
 *
 * <p>One graph serves prefill and decode: the token count is the symbolic dimension {@code seq}.
 * Params are weights, each made from one or more checkpoint tensors ({@link #weightSources});
 * states are the KV caches, each updated in place to the value {@link #stateUpdates} names.
 * Graphs are immutable; passes build new ones (see {@code GraphBuilder.from}).
 */
public final class Graph {

    /**
     * Checkpoint tensors a param is made of: concatenated along their first dimension, or with
     * {@code interleaved} their rows taken in turn (row {@code r} is row {@code r / n} of tensor
     * {@code r % n}), a layout a kernel can ask for (gate and up rows side by side).
     */
    public record WeightSource(List<String> tensors, boolean interleaved) {
        public WeightSource {
            tensors = List.copyOf(tensors);
            if (tensors.isEmpty()) throw new IllegalArgumentException("a weight needs at least one source tensor");
        }

        public WeightSource(List<String> tensors) {
            this(tensors, false);
        }

        /** Which tensor and which of its rows row {@code r} of the param comes from, given each tensor's row count. */
        public long[] locate(long r, long[] rowsPerTensor) {
            if (interleaved) return new long[] {r % tensors.size(), r / tensors.size()};
            for (int i = 0; i < rowsPerTensor.length; i++) {
                if (r < rowsPerTensor[i]) return new long[] {i, r};
                r -= rowsPerTensor[i];
            }
            throw new IllegalArgumentException("row past the end of " + tensors);
        }
    }

    private final String name;
    private final List<Value> inputs;
    private final List<Value> params;
    private final List<Value> states;
    private final List<Node> nodes;
    private final List<Value> outputs;
    private final Map<Value, WeightSource> weightSources;
    private final Map<Value, Value> stateUpdates;
    private final int nextId;
    private Map<Value, Node> producers;
    private Map<Value, List<Node>> users;

    Graph(String name, List<Value> inputs, List<Value> params, List<Value> states, List<Node> nodes, List<Value> outputs,
          Map<Value, WeightSource> weightSources, Map<Value, Value> stateUpdates, int nextId) {
        this.name = name;
        this.inputs = List.copyOf(inputs);
        this.params = List.copyOf(params);
        this.states = List.copyOf(states);
        this.nodes = List.copyOf(nodes);
        this.outputs = List.copyOf(outputs);
        this.weightSources = Collections.unmodifiableMap(new LinkedHashMap<>(weightSources));
        this.stateUpdates = Collections.unmodifiableMap(new LinkedHashMap<>(stateUpdates));
        this.nextId = nextId;
    }

    public String name() { return name; }
    public List<Value> inputs() { return inputs; }
    public List<Value> params() { return params; }
    public List<Value> states() { return states; }
    public List<Node> nodes() { return nodes; }
    public List<Value> outputs() { return outputs; }
    public Map<Value, WeightSource> weightSources() { return weightSources; }
    public Map<Value, Value> stateUpdates() { return stateUpdates; }

    /** First id not used by any value of this graph (rewrites continue numbering from here). */
    int nextId() { return nextId; }

    public WeightSource weightSource(Value param) {
        WeightSource s = weightSources.get(param);
        if (s == null) throw new IllegalArgumentException(param + " is not a param of graph " + name);
        return s;
    }

    public Value input(String name) {
        return find(inputs, name);
    }

    public Value param(String name) {
        return find(params, name);
    }

    public Value state(String name) {
        return find(states, name);
    }

    private Value find(List<Value> vs, String n) {
        for (Value v : vs) if (v.name().equals(n)) return v;
        throw new IllegalArgumentException("graph " + name + " has no value named '" + n + "'");
    }

    /** The node producing {@code v}, or {@code null} for inputs, params and states. */
    public Node producer(Value v) {
        if (producers == null) {
            Map<Value, Node> m = new IdentityHashMap<>();
            for (Node n : nodes) for (Value o : n.outputs()) m.put(o, n);
            producers = m;
        }
        return producers.get(v);
    }

    /** Nodes that read {@code v}, in order. */
    public List<Node> users(Value v) {
        if (users == null) {
            Map<Value, List<Node>> m = new IdentityHashMap<>();
            for (Node n : nodes) for (Value i : n.inputs()) m.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
            users = m;
        }
        return users.getOrDefault(v, List.of());
    }

    /** Whether {@code v} is read by any node or is a graph output or state update. */
    public boolean isLive(Value v) {
        return !users(v).isEmpty() || outputs.contains(v) || stateUpdates.containsValue(v);
    }

    /** Number of nodes running each op, by op name, in first-seen order. */
    public Map<String, Integer> opCounts() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (Node n : nodes) m.merge(n.op().name(), 1, Integer::sum);
        return m;
    }

    /**
     * Checks that every value is defined before use and that each node's output types are what
     * its op infers from its inputs; throws {@link IllegalStateException} naming the node otherwise.
     */
    public Graph verify() {
        Map<Value, Boolean> defined = new IdentityHashMap<>();
        for (Value v : inputs) defined.put(v, true);
        for (Value v : params) defined.put(v, true);
        for (Value v : states) defined.put(v, true);
        Map<String, Integer> names = new HashMap<>();
        for (Node n : nodes) {
            for (Value i : n.inputs())
                if (!defined.containsKey(i)) throw new IllegalStateException("graph " + name + ": " + n.op().name() + " reads " + i + " before it is defined");
            List<TensorType> expected;
            try {
                expected = n.op().infer(n.inputs().stream().map(Value::type).toList());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("graph " + name + ": " + e.getMessage(), e);
            }
            List<TensorType> actual = n.outputs().stream().map(Value::type).toList();
            if (!expected.equals(actual))
                throw new IllegalStateException("graph " + name + ": " + n.op().name() + " outputs " + actual + " but its op infers " + expected);
            for (Value o : n.outputs()) {
                if (defined.put(o, true) != null) throw new IllegalStateException("graph " + name + ": " + o + " is defined twice");
                names.merge(o.name(), 1, Integer::sum);
            }
        }
        for (Value o : outputs) if (!defined.containsKey(o)) throw new IllegalStateException("graph " + name + ": output " + o + " is never defined");
        for (var e : stateUpdates.entrySet()) {
            if (!states.contains(e.getKey())) throw new IllegalStateException("graph " + name + ": " + e.getKey() + " is updated but is not a state");
            if (!defined.containsKey(e.getValue())) throw new IllegalStateException("graph " + name + ": state update " + e.getValue() + " is never defined");
        }
        for (Value p : params) weightSource(p);
        return this;
    }

    @Override
    public String toString() {
        return GraphPrinter.print(this);
    }
}
