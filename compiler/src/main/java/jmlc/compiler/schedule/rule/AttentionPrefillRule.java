package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.LaunchBuilder;
import jmlc.compiler.schedule.ScheduleContext;
import jmlc.compiler.schedule.ScheduleRule;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static jmlc.compiler.kernel.K.*;

/**
 * Causal attention for several queries (prefill), flash-attention style: no score matrix in memory.
 * Grid (query tiles, heads); each warp owns one query, walks positions {@code 0 .. pos + s} with an
 * online softmax, lanes holding slices of the head dimension.
 */
public final class AttentionPrefillRule implements ScheduleRule {
    static final int WARPS = 4;

    @Override
    public String name() {
        return "attention_prefill";
    }

    @Override
    public Optional<List<KernelCall>> apply(Node n, ScheduleContext ctx) {
        if (!(n.op() instanceof Op.Attention a)) return Optional.empty();
        int hd = a.headDim(), nH = a.nHeads(), group = nH / a.nKvHeads();
        int ctxLen = (int) n.input(1).type().shape().dim(1).size();
        int warp = ctx.target().warpSize();
        String sig = "attention_prefill_h" + nH + "_kv" + a.nKvHeads() + "_d" + hd + "_c" + ctxLen + "_" + n.input(1).type().dtype();
        int warps = ctx.knobs().get(sig, "warps", WARPS);
        int dpl = (hd + warp - 1) / warp;
        LaunchBuilder lb = new LaunchBuilder(sig + "_w" + warps, "causal attention, one warp per (query, head), online softmax");
        lb.block(warps * warp).grid(LaunchBuilder.ceilDiv(lb.seq(), warps), c(nH)).knob("warps", warps);
        Buffer q = lb.input("q", n.input(0)), kc = lb.input("k_cache", n.input(1)), vc = lb.input("v_cache", n.input(2)), pos = lb.input("pos", n.input(3));
        Buffer out = lb.output("out", n.output());
        K.Body b = lb.body;
        Expr.Var h = b.let("h", bid(1));
        Expr.Var g = b.let("g", div(h, c(group)));
        Expr.Var lane = b.let("lane", mod(tid(0), c(warp)));
        Expr.Var s = b.let("s", add(mul(bid(0), c(warps)), div(tid(0), c(warp))));
        b.ifThen(ge(s, lb.seq()), x -> x.ret()); // whole warps leave together: no shuffle loses a partner
        Expr.Var qBase = b.let("q_base", add(mul(s, c(nH * hd)), mul(h, c(hd))));
        List<Expr.Var> qv = new ArrayList<>(), acc = new ArrayList<>();
        for (int i = 0; i < dpl; i++) {
            Expr d = add(lane, c(i * warp));
            qv.add(b.let("q" + i, select(lt(d, c(hd)), load(q, add(qBase, min(d, c(hd - 1)))), f(0))));
            acc.add(b.let("acc" + i, f(0)));
        }
        Expr.Var m = b.let("m", f(Float.NEGATIVE_INFINITY));
        Expr.Var l = b.let("l", f(0));
        Expr.Var last = b.let("last", add(load(pos, c(0)), s));
        Expr.Var t = var("t", KType.I32);
        b.forRange(t, c(0), add(last, c(1)), c(1), 1, x -> {
            Expr.Var kvBase = x.let("kv_base", mul(add(mul(g, c(ctxLen)), t), c(hd)));
            Expr.Var sc = x.let("sc", f(0));
            List<Expr.Var> vs = new ArrayList<>();
            for (int i = 0; i < dpl; i++) {
                Expr d = min(add(lane, c(i * warp)), c(hd - 1));
                x.assign(sc, fma(qv.get(i), loadF32(kc, add(kvBase, d)), sc));
                vs.add(x.let(x.fresh("v"), loadF32(vc, add(kvBase, d))));
            }
            Reductions.warpReduce(x, sc, warp, false);
            x.assign(sc, mul(sc, f(a.scale())));
            Expr.Var mNew = x.let("mn", K.max(m, sc));
            Expr.Var corr = x.let("corr", exp(sub(m, mNew)));
            Expr.Var p = x.let("p", exp(sub(sc, mNew)));
            x.assign(l, fma(l, corr, p));
            for (int i = 0; i < dpl; i++) x.assign(acc.get(i), fma(acc.get(i), corr, mul(p, vs.get(i))));
            x.assign(m, mNew);
        });
        for (int i = 0; i < dpl; i++) {
            Expr d = add(lane, c(i * warp));
            int ii = i;
            b.ifThen(lt(d, c(hd)), x -> x.store(out, add(qBase, d), div(acc.get(ii), l)));
        }
        return Optional.of(List.of(lb.build()));
    }
}
