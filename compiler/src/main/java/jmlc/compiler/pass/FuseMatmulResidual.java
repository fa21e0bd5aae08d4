package jmlc.compiler.pass;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.Value;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code r + matmul(x, w)} -> {@code matmul_fused(x, w, r)}: the residual add happens as the GEMV
 * writes its output (epilogue), instead of a kernel that reads both again.
 */
public final class FuseMatmulResidual implements Pass {

    @Override
    public Graph apply(Graph g) {
        List<PatternRewrite.Match> ms = new ArrayList<>();
        for (Node add : g.nodes()) {
            if (!(add.op() instanceof Op.Add)) continue;
            for (int side = 0; side < 2; side++) {
                Value y = add.input(side), r = add.input(1 - side);
                Node mm = g.producer(y);
                MatmulParts parts = mm == null ? null : MatmulParts.of(mm);
                if (parts == null || parts.w().kind() != Value.Kind.PARAM || parts.residual() != null || g.users(y).size() != 1 || g.outputs().contains(y)) continue;
                MatmulParts fused = parts.withResidual(r);
                ms.add(new PatternRewrite.Match(List.of(mm, add), fused.op(), fused.inputs(), List.of(add.output())));
                break;
            }
        }
        return PatternRewrite.apply(g, ms);
    }
}
