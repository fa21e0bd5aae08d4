package jmlc.compiler.pass;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphBuilder;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.Value;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Replaces matched groups of nodes by one fused node, the mechanism behind every fusion pass.
 *
 * <p>A {@link Match} names the nodes it removes, the fused op and its inputs, and which old value
 * each fused output stands for. The fused node is emitted where the last removed node was. A match
 * is skipped (the graph keeps its nodes) when it would change meaning: a removed node's output that
 * the fused node does not reproduce is read outside the group, or a reproduced value is read
 * before the fused node's position.
 */
final class PatternRewrite {
    private PatternRewrite() {}

    record Match(List<Node> removed, Op op, List<Value> inputs, List<Value> replaces) {
        Match {
            removed = List.copyOf(removed);
            inputs = List.copyOf(inputs);
            replaces = List.copyOf(replaces);
        }
    }

    static Graph apply(Graph g, List<Match> matches) {
        Map<Node, Integer> index = new IdentityHashMap<>();
        for (int i = 0; i < g.nodes().size(); i++) index.put(g.nodes().get(i), i);
        Map<Node, Match> anchors = new IdentityHashMap<>();
        Set<Node> removed = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Match m : matches) {
            if (m.removed().stream().anyMatch(removed::contains) || !safe(g, m, index)) continue;
            Node last = m.removed().stream().max((a, b) -> Integer.compare(index.get(a), index.get(b))).orElseThrow();
            anchors.put(last, m);
            removed.addAll(m.removed());
        }
        if (anchors.isEmpty()) return g;
        GraphBuilder b = GraphBuilder.from(g);
        for (Node n : g.nodes()) {
            Match m = anchors.get(n);
            if (m != null) {
                Value[] in = m.inputs().stream().map(b::map).toArray(Value[]::new);
                List<Value> outs = b.applyMulti(m.replaces().getFirst().name(), m.op(), in);
                for (int i = 0; i < outs.size(); i++) b.alias(m.replaces().get(i), outs.get(i));
            } else if (!removed.contains(n)) {
                b.copy(n);
            }
        }
        return b.finishRewrite();
    }

    private static boolean safe(Graph g, Match m, Map<Node, Integer> index) {
        Set<Node> group = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        group.addAll(m.removed());
        int anchor = m.removed().stream().mapToInt(index::get).max().orElseThrow();
        Set<Value> reproduced = new HashSet<>(m.replaces());
        for (Node n : m.removed()) {
            for (Value o : n.outputs()) {
                List<Node> outside = new ArrayList<>();
                for (Node u : g.users(o)) if (!group.contains(u)) outside.add(u);
                boolean escapes = !outside.isEmpty() || g.outputs().contains(o) || g.stateUpdates().containsValue(o);
                if (!escapes) continue;
                if (!reproduced.contains(o)) return false;
                for (Node u : outside) if (index.get(u) < anchor) return false;
            }
        }
        return true;
    }

    /** The node producing {@code v} if it runs op type {@code type}, else null. */
    static <T extends Op> Node producedBy(Graph g, Value v, Class<T> type) {
        Node n = g.producer(v);
        return n != null && type.isInstance(n.op()) ? n : null;
    }
}
