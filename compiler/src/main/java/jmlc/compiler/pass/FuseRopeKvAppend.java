package jmlc.compiler.pass;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.Value;

import java.util.ArrayList;
import java.util.List;

/**
 * Over the fused qkv output {@code y}: {@code q = rope(y[:, q]); k = rope(y[:, k]);
 * append(kCache, k); append(vCache, y[:, v])} -> {@code (q, kCache', vCache') = rope_kv_append(y, kCache, vCache, pos)}:
 * one kernel rotates q and k and writes the cache, instead of three slices, two ropes and two appends.
 */
public final class FuseRopeKvAppend implements Pass {

    @Override
    public Graph apply(Graph g) {
        List<PatternRewrite.Match> ms = new ArrayList<>();
        for (Node att : g.nodes()) {
            if (!(att.op() instanceof Op.Attention a)) continue;
            Node qRope = PatternRewrite.producedBy(g, att.input(0), Op.Rope.class);
            Node kApp = PatternRewrite.producedBy(g, att.input(1), Op.KvAppend.class);
            Node vApp = PatternRewrite.producedBy(g, att.input(2), Op.KvAppend.class);
            if (qRope == null || kApp == null || vApp == null) continue;
            Node kRope = PatternRewrite.producedBy(g, kApp.input(1), Op.Rope.class);
            if (kRope == null || !((Op.Rope) qRope.op()).spec().equals(((Op.Rope) kRope.op()).spec())) continue;
            Node qs = PatternRewrite.producedBy(g, qRope.input(0), Op.Slice.class);
            Node ks = PatternRewrite.producedBy(g, kRope.input(0), Op.Slice.class);
            Node vs = PatternRewrite.producedBy(g, vApp.input(1), Op.Slice.class);
            if (qs == null || ks == null || vs == null) continue;
            Value y = qs.input(0), pos = att.input(3);
            if (ks.input(0) != y || vs.input(0) != y) continue;
            long qCols = (long) a.nHeads() * a.headDim(), kvCols = (long) a.nKvHeads() * a.headDim();
            if (!slice(qs, 0, qCols) || !slice(ks, qCols, kvCols) || !slice(vs, qCols + kvCols, kvCols) || y.type().shape().cols() != qCols + 2 * kvCols) continue;
            if (qRope.input(1) != pos || kRope.input(1) != pos || kApp.input(2) != pos || vApp.input(2) != pos) continue;
            var spec = ((Op.Rope) qRope.op()).spec();
            ms.add(new PatternRewrite.Match(List.of(qs, ks, vs, qRope, kRope, kApp, vApp),
                    new Op.RopeKvAppend(spec, a.nHeads(), a.nKvHeads()),
                    List.of(y, kApp.input(0), vApp.input(0), pos),
                    List.of(qRope.output(), kApp.output(), vApp.output())));
        }
        return PatternRewrite.apply(g, ms);
    }

    private static boolean slice(Node n, long start, long len) {
        Op.Slice s = (Op.Slice) n.op();
        return s.start() == start && s.len() == len;
    }
}
