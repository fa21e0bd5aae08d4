package jmlc.compiler.pass;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphBuilder;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.Value;

/**
 * {@code last_row(rms_norm(x, g))} -> {@code rms_norm(last_row(x), g)}: a row-wise op commutes
 * with picking a row. The final norm then runs on one row instead of the whole prompt, and sits
 * right before the LM head, where {@link FuseMatmulPrologue} folds it into the GEMV.
 */
public final class MoveLastRowBeforeNorm implements Pass {

    @Override
    public Graph apply(Graph g) {
        Node target = null;
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof Op.LastRow)) continue;
            Node norm = g.producer(n.input(0));
            if (norm != null && norm.op() instanceof Op.RmsNorm && g.users(norm.output()).size() == 1 && !g.outputs().contains(norm.output())) target = n;
        }
        if (target == null) return g;
        Node last = target, norm = g.producer(target.input(0));
        GraphBuilder b = GraphBuilder.from(g);
        for (Node n : g.nodes()) {
            if (n == norm) continue;
            if (n == last) {
                Value row = b.apply(last.output().name(), new Op.LastRow(), b.map(norm.input(0)));
                b.alias(last.output(), b.apply(norm.output().name(), norm.op(), row, b.map(norm.input(1))));
                continue;
            }
            b.copy(n);
        }
        return b.finishRewrite();
    }
}
