package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.LaunchBuilder;
import jmlc.compiler.schedule.ScheduleContext;
import jmlc.compiler.schedule.ScheduleRule;

import java.util.List;
import java.util.Optional;

import static jmlc.compiler.kernel.K.*;

/**
 * {@code rope_kv_append}: one thread per rotated pair of every q and k head, and per pair of
 * values of every v head, of every token: q is written roped to its output, k roped and v as is
 * into the caches at position {@code pos + s}. cos/sin come from a host table computed in double.
 * In the decode program the attention kernel that follows absorbs this node (no kernel of its own).
 */
public final class RopeKvAppendRule implements ScheduleRule {
    static final int THREADS = 128;

    @Override
    public String name() {
        return "rope_kv_append";
    }

    /** Positions the caches hold: rope tables cover them all. */
    static int maxPositions(ScheduleContext ctx) {
        return ctx.graph().states().isEmpty() ? 4096 : (int) ctx.graph().states().getFirst().type().shape().dim(1).size();
    }

    interface Sink {
        void store(K.Body b, Expr index, Expr value);
    }

    /**
     * Rotates pair {@code k} of the head at {@code inBase} of {@code x} by {@code position}'s angles and
     * writes the two values through {@code sink} at the same offsets from {@code outBase}.
     */
    static void rotateTo(K.Body b, RopeSpec spec, Buffer x, Expr inBase, Expr outBase, Expr k, Expr position, Buffer table, Sink sink) {
        int half = spec.headDim() / 2;
        Expr first = spec.style() == RopeSpec.Style.HALF ? k : mul(k, c(2));
        Expr second = spec.style() == RopeSpec.Style.HALF ? add(k, c(half)) : add(mul(k, c(2)), c(1));
        Expr.Var a = b.let(b.fresh("a"), load(x, add(inBase, first)));
        Expr.Var bb = b.let(b.fresh("b"), load(x, add(inBase, second)));
        Expr.Var t = b.let(b.fresh("t"), mul(add(mul(position, c(half)), k), c(2)));
        Expr.Var cs = b.let(b.fresh("cs"), load(table, t));
        Expr.Var sn = b.let(b.fresh("sn"), load(table, add(t, c(1))));
        sink.store(b, add(outBase, first), sub(mul(a, cs), mul(bb, sn)));
        sink.store(b, add(outBase, second), add(mul(a, sn), mul(bb, cs)));
    }

    /**
     * Element {@code d} of the head at {@code headBase} of {@code x}, rotated by {@code position}'s
     * angles: the same arithmetic as {@link #rotateTo}, one element at a time (its pair partner is
     * {@code d ± half} for HALF, {@code d ^ 1} for INTERLEAVED), for kernels that hold a head's
     * elements in different threads.
     */
    static Expr rotatedElement(K.Body b, RopeSpec spec, Buffer x, Expr headBase, Expr d, Expr position, Buffer table) {
        int half = spec.headDim() / 2;
        boolean halfStyle = spec.style() == RopeSpec.Style.HALF;
        Expr.Var k = b.let(b.fresh("rk"), halfStyle ? mod(d, c(half)) : div(d, c(2)));
        Expr.Var partner = b.let(b.fresh("rp"), halfStyle ? select(lt(d, c(half)), add(d, c(half)), sub(d, c(half))) : xor(d, c(1)));
        Expr.Var xv = b.let(b.fresh("rx"), load(x, add(headBase, d)));
        Expr.Var pv = b.let(b.fresh("rpx"), load(x, add(headBase, partner)));
        Expr.Var t = b.let(b.fresh("rt"), mul(add(mul(position, c(half)), k), c(2)));
        Expr.Var cs = b.let(b.fresh("rcs"), load(table, t));
        Expr.Var sn = b.let(b.fresh("rsn"), load(table, add(t, c(1))));
        // first of its pair: a·cos − b·sin; second: a·sin + b·cos, with a the first and b the second
        return select(lt(d, partner), sub(mul(xv, cs), mul(pv, sn)), add(mul(pv, sn), mul(xv, cs)));
    }

    @Override
    public Optional<List<KernelCall>> apply(Node n, ScheduleContext ctx) {
        if (!(n.op() instanceof Op.RopeKvAppend r)) return Optional.empty();
        // the decode attention that reads this node's q does its work (AttentionDecodeRule.absorbedRope)
        if (AttentionDecodeRule.absorbs(n, ctx)) return Optional.of(List.of());
        RopeSpec spec = r.spec();
        int hd = spec.headDim(), half = hd / 2, nH = r.nHeads(), nKv = r.nKvHeads();
        Value kCache = n.input(1);
        int ctxLen = (int) kCache.type().shape().dim(1).size();
        int row = (nH + 2 * nKv) * hd;
        int perToken = (nH + 2 * nKv) * half;
        LaunchBuilder lb = ctx.launch("rope_kv_append_h" + nH + "_kv" + nKv + "_d" + hd + "_c" + ctxLen + "_" + kCache.type().dtype() + "_" + spec.style().name().toLowerCase(),
                "q = rope(qkv[:, q]); kCache[h, pos+s] = rope(qkv[:, k]); vCache[h, pos+s] = qkv[:, v]");
        lb.block(THREADS).grid(LaunchBuilder.ceilDiv(mul(lb.seq(), c(perToken)), THREADS)).knob("threads", THREADS);
        Buffer qkv = lb.input("qkv", n.input(0)), pos = lb.input("pos", n.input(3));
        Buffer q = lb.output("q", n.output(0));
        KvCacheAccess kc = KvCacheAccess.of(lb, "k_cache", n.output(1), true), vc = KvCacheAccess.of(lb, "v_cache", n.output(2), true);
        Buffer table = lb.constant("cossin", ElementwiseRule.ropeTableId(spec, ctxLen), ElementwiseRule.ropeTable(spec, ctxLen));
        K.Body b = lb.body;
        Expr.Var i = b.let("i", add(mul(bid(0), c(THREADS)), tid(0)));
        b.ifThen(ge(i, mul(lb.seq(), c(perToken))), x -> x.ret());
        Expr.Var s = b.let("s", div(i, c(perToken)));
        Expr.Var head = b.let("head", div(mod(i, c(perToken)), c(half)));
        Expr.Var k = b.let("k", mod(i, c(half)));
        Expr.Var p = b.let("p", add(load(pos, c(0)), s));
        Expr.Var inBase = b.let("in_base", add(mul(s, c(row)), mul(head, c(hd))));
        b.ifThen(lt(head, c(nH)), x -> rotateTo(x, spec, qkv, inBase, add(mul(s, c(nH * hd)), mul(head, c(hd))), k, p, table,
                (bb, idx, v) -> bb.store(q, idx, v)));
        if (!kc.int8()) {
            b.ifThen(land(ge(head, c(nH)), lt(head, c(nH + nKv))), x -> {
                Expr.Var out = x.let("k_base", mul(add(mul(sub(head, c(nH)), c(ctxLen)), p), c(hd)));
                rotateTo(x, spec, qkv, inBase, out, k, p, table, (bb, idx, v) -> kc.store(bb, idx, v));
            });
            b.ifThen(ge(head, c(nH + nKv)), x -> {
                Expr.Var out = x.let("v_base", mul(add(mul(sub(head, c(nH + nKv)), c(ctxLen)), p), c(hd)));
                vc.store(x, add(out, k), load(qkv, add(inBase, k)));
                vc.store(x, add(out, add(k, c(half))), load(qkv, add(inBase, add(k, c(half)))));
            });
        } else {
            // an int8 cache is written a quantization group at a time: pair threads k < hd / group of each k and v head
            int groups = hd / kc.group();
            b.ifThen(land(ge(head, c(nH)), lt(k, c(groups))), x -> {
                Expr.Var kvHead = x.let("kv_head", mod(sub(head, c(nH)), c(nKv)));
                Expr.Var first = x.let("first", mul(k, c(kc.group())));
                Expr.Var out = x.let("row", mul(add(mul(kvHead, c(ctxLen)), p), c(hd)));
                x.ifThen(lt(head, c(nH + nKv)), y -> kc.storeGroup(y, add(out, first), j -> rotatedElement(y, spec, qkv, inBase, add(first, c(j)), p, table)));
                x.ifThen(ge(head, c(nH + nKv)), y -> vc.storeGroup(y, add(out, first), j -> load(qkv, add(inBase, add(first, c(j))))));
            });
        }
        return Optional.of(List.of(lb.build()));
    }
}
