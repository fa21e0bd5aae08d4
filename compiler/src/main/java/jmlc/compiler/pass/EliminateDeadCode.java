package jmlc.compiler.pass;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphBuilder;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Value;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/** Drops nodes none of whose outputs reach a graph output or state update (and params no node reads). */
public final class EliminateDeadCode implements Pass {

    @Override
    public Graph apply(Graph g) {
        Set<Value> live = Collections.newSetFromMap(new IdentityHashMap<>());
        live.addAll(g.outputs());
        live.addAll(g.stateUpdates().values());
        Set<Node> keep = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Node> nodes = g.nodes();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (n.outputs().stream().anyMatch(live::contains)) {
                keep.add(n);
                live.addAll(n.inputs());
            }
        }
        if (keep.size() == nodes.size()) return g;
        GraphBuilder b = GraphBuilder.from(g);
        for (Node n : nodes) if (keep.contains(n)) b.copy(n);
        return b.finishRewrite();
    }
}
