package jmlc.compiler.pass;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.Value;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code matmul(x, dequantize(w))} -> {@code qmatmul(x, w)}: the kernel unpacks each weight tile
 * in registers, so no dequantized copy of a weight ever exists in memory.
 */
public final class FuseDequantMatmul implements Pass {

    @Override
    public Graph apply(Graph g) {
        List<PatternRewrite.Match> ms = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof Op.MatMul)) continue;
            Node dq = PatternRewrite.producedBy(g, n.input(1), Op.Dequantize.class);
            if (dq == null) continue;
            List<Value> in = new ArrayList<>(n.inputs());
            in.set(1, dq.input(0));
            ms.add(new PatternRewrite.Match(List.of(n), new Op.QMatMul(), in, List.of(n.output())));
        }
        // dequantize nodes no matmul reads any more go too: none of their output may stay in memory
        return new EliminateDeadCode().apply(PatternRewrite.apply(g, ms));
    }
}
