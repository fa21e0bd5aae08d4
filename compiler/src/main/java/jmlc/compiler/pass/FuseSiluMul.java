package jmlc.compiler.pass;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code silu(y[:, :F]) · y[:, F:]} over the fused gate/up output -> {@code silu_mul(y)}: one pass
 * over {@code y} instead of two slices, a silu and a mul.
 */
public final class FuseSiluMul implements Pass {

    @Override
    public Graph apply(Graph g) {
        List<PatternRewrite.Match> ms = new ArrayList<>();
        for (Node mul : g.nodes()) {
            if (!(mul.op() instanceof Op.Mul)) continue;
            Node silu = PatternRewrite.producedBy(g, mul.input(0), Op.Silu.class);
            if (silu == null) continue;
            Node gate = PatternRewrite.producedBy(g, silu.input(0), Op.Slice.class);
            Node up = PatternRewrite.producedBy(g, mul.input(1), Op.Slice.class);
            if (gate == null || up == null || gate.input(0) != up.input(0)) continue;
            Op.Slice gs = (Op.Slice) gate.op(), us = (Op.Slice) up.op();
            long cols = gate.input(0).type().shape().cols();
            if (gs.start() != 0 || us.start() != gs.len() || us.len() != gs.len() || cols != 2 * gs.len()) continue;
            ms.add(new PatternRewrite.Match(List.of(gate, silu, up, mul), new Op.SiluMul(), List.of(gate.input(0)), List.of(mul.output())));
        }
        return PatternRewrite.apply(g, ms);
    }
}
