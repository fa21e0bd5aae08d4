package jmlc.compiler.pass;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphBuilder;
import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.Value;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * {@code silu_mul(matmul(x, [gate; up]))} -> {@code matmul_fused(x, interleave_rows(gate, up))} with a
 * silu·mul epilogue: with gate and up rows interleaved in the stored weight, the kernel that
 * computes a gate row computes its up row alongside and writes {@code silu(g)·u} once, instead of
 * writing 2F values for every reader of them to reduce again.
 */
public final class FuseSiluMulEpilogue implements Pass {

    @Override
    public Graph apply(Graph g) {
        Map<Node, Node> fuse = new IdentityHashMap<>(); // silu_mul -> its matmul
        for (Node s : g.nodes()) {
            if (!(s.op() instanceof Op.SiluMul)) continue;
            Node mm = g.producer(s.input(0));
            MatmulParts p = mm == null ? null : MatmulParts.of(mm);
            if (p == null || p.residual() != null || p.siluMulPairs() || p.w().kind() != Value.Kind.PARAM || p.bias() != null) continue;
            if (g.users(mm.output()).size() != 1 || g.outputs().contains(mm.output()) || g.users(p.w()).size() != 1) continue;
            if (g.weightSource(p.w()).tensors().size() != 2 || g.weightSource(p.w()).interleaved()) continue;
            fuse.put(s, mm);
        }
        if (fuse.isEmpty()) return g;
        Map<Node, Node> byMatmul = new IdentityHashMap<>();
        fuse.forEach((s, mm) -> byMatmul.put(mm, s));
        GraphBuilder b = GraphBuilder.from(g);
        for (Node n : g.nodes()) {
            Node silu = byMatmul.get(n);
            if (silu != null) continue; // emitted where the silu_mul stood
            Node mm = fuse.get(n);
            if (mm == null) {
                b.copy(n);
                continue;
            }
            MatmulParts p = MatmulParts.of(mm);
            Graph.WeightSource src = g.weightSource(p.w());
            Value w = b.replaceParam(p.w(), p.w().type(), new Graph.WeightSource(src.tensors(), true));
            MatmulParts fused = p.withSiluMulPairs(w);
            Value[] in = fused.inputs().stream().map(v -> v == w ? w : b.map(v)).toArray(Value[]::new);
            b.alias(n.output(), b.apply(n.output().name(), fused.op(), in));
        }
        return b.finishRewrite();
    }
}
