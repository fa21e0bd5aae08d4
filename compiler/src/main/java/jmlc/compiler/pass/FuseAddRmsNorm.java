package jmlc.compiler.pass;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code s = a + b; n = rms_norm(s, w)} -> {@code (s, n) = add_rms_norm(a, b, w)}: the residual add
 * and the next layer's norm read the row once and write it twice, instead of three passes.
 */
public final class FuseAddRmsNorm implements Pass {

    @Override
    public Graph apply(Graph g) {
        List<PatternRewrite.Match> ms = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof Op.RmsNorm r)) continue;
            Node add = PatternRewrite.producedBy(g, n.input(0), Op.Add.class);
            if (add == null) continue;
            ms.add(new PatternRewrite.Match(List.of(add, n), new Op.AddRmsNorm(r.eps()),
                    List.of(add.input(0), add.input(1), n.input(1)), List.of(add.output(), n.output())));
        }
        return PatternRewrite.apply(g, ms);
    }
}
