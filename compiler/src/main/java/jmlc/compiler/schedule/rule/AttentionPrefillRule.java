package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Knob;
import jmlc.compiler.schedule.KnobSpace;
import jmlc.compiler.schedule.LaunchBuilder;
import jmlc.compiler.schedule.ScheduleContext;
import jmlc.compiler.schedule.ScheduleRule;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static jmlc.compiler.kernel.K.*;

/**
 * Causal attention for several queries (prefill), flash-attention style: no score matrix in memory.
 * Grid (query tiles, heads); each warp owns one query, walks positions {@code 0 .. pos + s} with an
 * online softmax, lanes holding slices of the head dimension, {@code keys} positions a step (knob,
 * default 4) so their loads and warp reductions overlap.
 */
public final class AttentionPrefillRule implements ScheduleRule {
    static final int WARPS = 4;
    /** Keys a warp scores per loop step: their loads and reductions overlap instead of waiting one by one. */
    static final int KEYS = 4;

    @Override
    public String name() {
        return "attention_prefill";
    }

    @Override
    public Optional<List<KernelCall>> apply(Node n, ScheduleContext ctx) {
        if (!(n.op() instanceof Op.Attention a)) return Optional.empty();
        int hd = a.headDim(), nH = a.nHeads(), group = nH / a.nKvHeads();
        int ctxLen = (int) n.input(1).type().shape().dim(1).size();
        int warp = ctx.caps().subgroupSize();
        KnobSpace space = new KnobSpace(ctx.signature("attention_prefill", "h" + nH + "_kv" + a.nKvHeads() + "_d" + hd + "_c" + ctxLen + "_" + n.input(1).type().dtype()))
                .add(Knob.oneOf("warps", WARPS, "subgroups a block, one query each", 1, 2, 4, 8, 16).tryOnly(2, 4, 8))
                .add(Knob.range("keys", KEYS, 1, 8, "keys a subgroup scores a loop step", 1, 2, 4, 8))
                .require("warps x " + warp + " <= " + ctx.caps().maxThreadsPerBlock() + " threads a block", v -> v.get("warps") * warp <= ctx.caps().maxThreadsPerBlock());
        Map<String, Integer> v = ctx.choose(space);
        String sig = space.signature().key();
        int warps = v.get("warps"), keys = v.get("keys");
        int dpl = (hd + warp - 1) / warp;
        LaunchBuilder lb = ctx.launch(sig + "_w" + warps + (keys == 1 ? "" : "k" + keys), "causal attention, one warp per (query, head), online softmax");
        lb.block(warps * warp).grid(LaunchBuilder.ceilDiv(lb.seq(), warps), c(nH)).knob("warps", warps).knob("keys", keys);
        Buffer q = lb.input("q", n.input(0));
        KvCacheAccess kc = KvCacheAccess.of(lb, "k_cache", n.input(1), false), vc = KvCacheAccess.of(lb, "v_cache", n.input(2), false);
        Buffer pos = lb.input("pos", n.input(3));
        Buffer out = lb.output("out", n.output());
        K.Body b = lb.body;
        Expr.Var h = b.let("h", bid(1));
        Expr.Var g = b.let("g", div(h, c(group)));
        Expr.Var lane = b.let("lane", mod(tid(0), c(warp)));
        Expr.Var s = b.let("s", add(mul(bid(0), c(warps)), div(tid(0), c(warp))));
        b.ifThen(ge(s, lb.seq()), x -> x.ret()); // whole warps leave together: no shuffle loses a partner
        Expr.Var qBase = b.let("q_base", add(mul(s, c(nH * hd)), mul(h, c(hd))));
        // lane l holds dims l, l + warp, ...; of an int8 cache, where a lane's dims make whole words, dpl·l .. dpl·l + dpl − 1
        // (a word and a scale a load; an f16 cache keeps a load a dim here: not measured otherwise)
        boolean words = kc.int8() && KvCacheAccess.fourALane(n.input(1).type(), warp);
        java.util.function.IntFunction<Expr> dim = i -> KvCacheAccess.laneDim(lane, i, dpl, warp, words);
        List<Expr.Var> qv = new ArrayList<>(), acc = new ArrayList<>();
        for (int i = 0; i < dpl; i++) {
            Expr d = dim.apply(i);
            qv.add(b.let("q" + i, select(lt(d, c(hd)), load(q, add(qBase, min(d, c(hd - 1)))), f(0))));
            acc.add(b.let("acc" + i, f(0)));
        }
        Expr.Var m = b.let("m", f(Float.NEGATIVE_INFINITY));
        Expr.Var l = b.let("l", f(0));
        Expr.Var last = b.let("last", add(load(pos, c(0)), s));
        // keys 0 .. last: `keys` at a time (independent loads and reductions in flight), then the rest one by one
        State st = new State(qv, acc, m, l, dim, words, g, kc, vc, hd, warp, dpl, ctxLen, a.scale());
        Expr.Var t = var("t", KType.I32);
        b.forRange(t, c(0), sub(add(last, c(2)), c(keys)), c(keys), 1, x -> st.step(x, t, keys));
        Expr.Var t1 = var("t1", KType.I32);
        b.forRange(t1, mul(div(add(last, c(1)), c(keys)), c(keys)), add(last, c(1)), c(1), 1, x -> st.step(x, t1, 1));
        for (int i = 0; i < dpl; i++) {
            Expr d = dim.apply(i);
            int ii = i;
            b.ifThen(lt(d, c(hd)), x -> x.storeF(out, add(qBase, d), div(acc.get(ii), l)));
        }
        return Optional.of(List.of(lb.build()));
    }

    /** A warp's running online softmax over the keys: max m, sum l, and the weighted sum of values in acc. */
    private record State(List<Expr.Var> qv, List<Expr.Var> acc, Expr.Var m, Expr.Var l, java.util.function.IntFunction<Expr> dim, boolean words,
                         Expr.Var g, KvCacheAccess kc, KvCacheAccess vc, int hd, int warp, int dpl, int ctxLen, double scale) {

        /** Folds keys t .. t+n-1 in: n scores (dot products reduced over the warp), one rescale of the running sums. */
        void step(K.Body x, Expr t, int n) {
            List<Expr.Var> sc = new ArrayList<>();
            List<List<Expr.Var>> vs = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                Expr.Var kvBase = x.let(x.fresh("kv_base"), mul(add(mul(g, c(ctxLen)), add(t, c(j))), c(hd)));
                Expr.Var s = x.let(x.fresh("sc"), f(0));
                List<Expr.Var> v = new ArrayList<>();
                if (words) { // a word of 4 bytes and their scale a load
                    for (int i = 0; i < dpl; i += 4) {
                        Expr.Var at4 = x.let(x.fresh("kv_at"), add(kvBase, dim.apply(i)));
                        List<Expr> k4 = kc.load4(x, at4);
                        for (int e = 0; e < 4; e++) x.assign(s, fma(qv.get(i + e), k4.get(e), s));
                        for (Expr e : vc.load4(x, at4)) v.add(x.let(x.fresh("v"), e));
                    }
                } else {
                    for (int i = 0; i < dpl; i++) {
                        Expr d = min(dim.apply(i), c(hd - 1));
                        x.assign(s, fma(qv.get(i), kc.load(add(kvBase, d)), s));
                        v.add(x.let(x.fresh("v"), vc.load(add(kvBase, d))));
                    }
                }
                sc.add(s);
                vs.add(v);
            }
            for (Expr.Var s : sc) {
                Reductions.warpReduce(x, s, warp, false);
                x.assign(s, mul(s, f(scale)));
            }
            OnlineSoftmax.fold(x, m, l, acc, sc, vs);
        }
    }
}
