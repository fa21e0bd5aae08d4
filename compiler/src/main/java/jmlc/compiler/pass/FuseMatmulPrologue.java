package jmlc.compiler.pass;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code matmul(rms_norm(x, g), w)} -> {@code matmul_fused(x, g, w)} with a norm prologue, and
 * {@code matmul(silu_mul(y), w)} -> {@code matmul_fused(y, w)} with a silu·mul prologue: the GEMV
 * normalizes (or activates) the row while staging it, so the norm or activation needs no kernel
 * and no trip through memory. A norm is folded only when matmuls are all that read it.
 */
public final class FuseMatmulPrologue implements Pass {

    @Override
    public Graph apply(Graph g) {
        List<PatternRewrite.Match> ms = new ArrayList<>();
        for (Node n : g.nodes()) {
            MatmulParts parts = MatmulParts.of(n);
            if (parts == null || parts.w().kind() != jmlc.compiler.ir.Value.Kind.PARAM || parts.hasPrologue()) continue;
            Node producer = g.producer(parts.x());
            if (producer == null) continue;
            MatmulParts fused = switch (producer.op()) {
                case Op.RmsNorm r when g.users(producer.output()).stream().allMatch(u -> MatmulParts.of(u) != null && u.input(0) == producer.output()) ->
                        parts.withPrologue(producer.input(0), new Op.Prologue.RmsNorm(r.eps()), producer.input(1));
                case Op.SiluMul s when g.users(producer.output()).size() == 1 -> parts.withPrologue(producer.input(0), new Op.Prologue.SiluMul(), null);
                default -> null;
            };
            if (fused == null) continue;
            // the producer stays for other readers until dead-code elimination; only this matmul is replaced
            ms.add(new PatternRewrite.Match(List.of(n), fused.op(), fused.inputs(), List.of(n.output())));
        }
        return PatternRewrite.apply(g, ms);
    }
}
