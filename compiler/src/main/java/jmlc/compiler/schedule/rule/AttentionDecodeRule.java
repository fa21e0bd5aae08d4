package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Shared;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.LaunchBuilder;
import jmlc.compiler.schedule.ScheduleContext;
import jmlc.compiler.schedule.ScheduleRule;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static jmlc.compiler.kernel.K.*;

/**
 * Decode attention (one query per head), flash-decoding style, in one kernel.
 *
 * <p>Grid (KV head, split); a block reads the positions of its split of the cache once for all
 * {@code group = H / nKv} query heads that share the KV head. Each warp takes every
 * {@code warps}-th position: lanes hold slices of the head dimension, a shuffle reduction gives the
 * score, and a running max and sum keep the softmax stable (online softmax). Warps merge in shared
 * memory; the block writes {@code (max, sum, acc[hd])} per query head and split to scratch. The
 * last block of a KV head to finish (a fence, then an atomic count of the head's finished splits)
 * rescales and sums the splits into the output and resets the count: no second launch.
 *
 * <p>The split count is fixed when the program is made, so a captured decode step replays at any
 * position; each split's share of the context is computed in the kernel from the current length
 * ({@code ceil(len / splits)} positions), so every split has work at any position. Splits left
 * without positions (when len < splits) write an empty partial.
 */
public final class AttentionDecodeRule implements ScheduleRule {
    static final int WARPS = 4, SPLITS = 32;

    @Override
    public String name() {
        return "attention_decode";
    }

    @Override
    public Optional<List<KernelCall>> apply(Node n, ScheduleContext ctx) {
        if (!(n.op() instanceof Op.Attention a) || !ctx.decode()) return Optional.empty();
        int hd = a.headDim(), nH = a.nHeads(), nKv = a.nKvHeads(), group = nH / nKv;
        int ctxLen = (int) n.input(1).type().shape().dim(1).size();
        int warp = ctx.target().warpSize();
        String sig = "attention_decode_h" + nH + "_kv" + nKv + "_d" + hd + "_c" + ctxLen + "_" + n.input(1).type().dtype();
        int warps = ctx.knobs().get(sig, "warps", WARPS);
        // one thread per split reads the splits' maxima when they are merged: at most a block's threads
        int splits = Math.min(Math.min(ctx.knobs().get(sig, "splits", SPLITS), ctxLen), warps * warp);
        int dpl = (hd + warp - 1) / warp; // head dims per lane
        if (group * dpl > 64) return Optional.empty(); // too many registers per lane for this schedule

        String scratchId = sig + "_partials";
        long partialFloats = (long) nH * splits * (hd + 2);

        LaunchBuilder lb = new LaunchBuilder(sig + "_w" + warps + "s" + splits, "per (kv head, split): online-softmax partial attention of its " + group
                + " query heads; the last split to finish merges them");
        lb.block(warps * warp).grid(c(nKv), c(splits)).knob("warps", warps).knob("splits", splits);
        Buffer q = lb.input("q", n.input(0)), kc = lb.input("k_cache", n.input(1)), vc = lb.input("v_cache", n.input(2)), pos = lb.input("pos", n.input(3));
        Buffer part = lb.scratch("partial", scratchId, KType.F32, partialFloats);
        Buffer out = lb.output("out", n.output());
        Shared sm = lb.shared("warp_m", KType.F32, warps * group);
        Shared sl = lb.shared("warp_l", KType.F32, warps * group);
        Shared sacc = lb.shared("warp_acc", KType.F32, warps * group * hd);
        K.Body b = lb.body;
        Expr.Var g = b.let("g", bid(0));
        Expr.Var sp = b.let("sp", bid(1));
        Expr.Var w = b.let("w", div(tid(0), c(warp)));
        Expr.Var lane = b.let("lane", mod(tid(0), c(warp)));
        Expr.Var len = b.let("len", add(load(pos, c(0)), c(1)));
        Expr.Var chunk = b.let("chunk", div(add(len, c(splits - 1)), c(splits)));
        Expr.Var start = b.let("start", mul(sp, chunk));
        Expr.Var end = b.let("end", min(len, add(start, chunk)));
        // q slices, running max/sum/acc per query head of the group
        Expr.Var[][] qv = new Expr.Var[group][dpl];
        Expr.Var[][] acc = new Expr.Var[group][dpl];
        Expr.Var[] m = new Expr.Var[group], l = new Expr.Var[group];
        for (int h = 0; h < group; h++) {
            m[h] = b.let("m" + h, f(Float.NEGATIVE_INFINITY));
            l[h] = b.let("l" + h, f(0));
            for (int i = 0; i < dpl; i++) {
                Expr d = add(lane, c(i * warp));
                int hh = h;
                qv[h][i] = b.let("q" + h + "_" + i, select(lt(d, c(hd)), load(q, add(mul(add(mul(g, c(group)), c(hh)), c(hd)), min(d, c(hd - 1)))), f(0)));
                acc[h][i] = b.let("acc" + h + "_" + i, f(0));
            }
        }
        Expr.Var t = var("t", KType.I32);
        b.forRange(t, add(start, w), end, c(warps), 1, x -> {
            Expr.Var kvBase = x.let("kv_base", mul(add(mul(g, c(ctxLen)), t), c(hd)));
            List<Expr.Var> ks = new ArrayList<>(), vs = new ArrayList<>();
            for (int i = 0; i < dpl; i++) {
                Expr d = min(add(lane, c(i * warp)), c(hd - 1));
                ks.add(x.let(x.fresh("k"), loadF32(kc, add(kvBase, d))));
                vs.add(x.let(x.fresh("v"), loadF32(vc, add(kvBase, d))));
            }
            for (int h = 0; h < group; h++) {
                Expr.Var s = x.let(x.fresh("s"), f(0));
                for (int i = 0; i < dpl; i++) x.assign(s, fma(qv[h][i], ks.get(i), s));
                Reductions.warpReduce(x, s, warp, false);
                x.assign(s, mul(s, f(a.scale())));
                Expr.Var mNew = x.let(x.fresh("mn"), K.max(m[h], s));
                Expr.Var corr = x.let(x.fresh("corr"), exp(sub(m[h], mNew)));
                Expr.Var p = x.let(x.fresh("p"), exp(sub(s, mNew)));
                x.assign(l[h], fma(l[h], corr, p));
                for (int i = 0; i < dpl; i++) x.assign(acc[h][i], fma(acc[h][i], corr, mul(p, vs.get(i))));
                x.assign(m[h], mNew);
            }
        });
        // merge the warps through shared memory
        for (int h = 0; h < group; h++) {
            int hh = h;
            b.ifThen(eq(lane, c(0)), x -> {
                x.sstore(sm, add(mul(w, c(group)), c(hh)), m[hh]);
                x.sstore(sl, add(mul(w, c(group)), c(hh)), l[hh]);
            });
            for (int i = 0; i < dpl; i++) {
                Expr d = add(lane, c(i * warp));
                int ii = i;
                b.ifThen(lt(d, c(hd)), x -> x.sstore(sacc, add(mul(add(mul(w, c(group)), c(hh)), c(hd)), d), acc[hh][ii]));
            }
        }
        b.barrier();
        // thread j of the block finishes (query head, dim) pairs j, j + threads, ...
        int threads = warps * warp;
        Expr.Var j = var("j", KType.I32);
        b.forRange(j, tid(0), c(group * hd), c(threads), 0, x -> {
            Expr.Var h = x.let("h", div(j, c(hd)));
            Expr.Var d = x.let("d", mod(j, c(hd)));
            Expr.Var mm = x.let("mm", sload(sm, h));
            for (int ww = 1; ww < warps; ww++) x.assign(mm, K.max(mm, sload(sm, add(c(ww * group), h))));
            Expr.Var ll = x.let("ll", f(0));
            Expr.Var aa = x.let("aa", f(0));
            for (int ww = 0; ww < warps; ww++) {
                Expr.Var mw = x.let(x.fresh("mw"), sload(sm, add(c(ww * group), h)));
                // an idle warp has max -inf: weight 0, not exp(nan)
                Expr.Var sc = x.let(x.fresh("sc"), select(eq(mw, f(Float.NEGATIVE_INFINITY)), f(0), exp(sub(mw, mm))));
                x.assign(ll, fma(sload(sl, add(c(ww * group), h)), sc, ll));
                x.assign(aa, fma(sload(sacc, add(mul(add(c(ww * group), h), c(hd)), d)), sc, aa));
            }
            Expr.Var qh = x.let("qh", add(mul(g, c(group)), h));
            Expr.Var base = x.let("pbase", mul(add(mul(qh, c(splits)), sp), c(hd + 2)));
            x.store(part, add(base, add(d, c(2))), aa);
            x.ifThen(eq(d, c(0)), y -> {
                y.store(part, base, mm);
                y.store(part, add(base, c(1)), ll);
            });
        });
        // ---- the last block of this KV head to finish merges the splits ----
        Buffer done = lb.scratch("done", sig + "_done", KType.I32, nKv);
        Shared last = lb.shared("last", KType.I32, 1);
        Shared sw = lb.shared("split_w", KType.F32, splits);
        b.fence();
        b.barrier();
        b.ifThen(eq(tid(0), c(0)), x -> x.sstore(last, c(0), atomicAdd(done, g, c(1))));
        b.barrier();
        b.ifThen(eq(sload(last, c(0)), c(splits - 1)), x -> {
            for (int hh = 0; hh < group; hh++) {
                Expr.Var qh = x.let(x.fresh("qh"), add(mul(g, c(group)), c(hh)));
                Expr.Var ms = x.let(x.fresh("ms"), f(Float.NEGATIVE_INFINITY));
                x.ifThen(lt(tid(0), c(splits)), y -> y.assign(ms, loadCoherent(part, mul(add(mul(qh, c(splits)), tid(0)), c(hd + 2)))));
                x.ifThen(lt(tid(0), c(splits)), y -> y.sstore(sw, tid(0), ms));
                x.barrier();
                Expr.Var mAll = x.let(x.fresh("mall"), sload(sw, c(0)));
                for (int s2 = 1; s2 < splits; s2++) x.assign(mAll, K.max(mAll, sload(sw, c(s2))));
                x.barrier(); // every thread has read the maxima before they become weights
                x.ifThen(lt(tid(0), c(splits)), y -> y.sstore(sw, tid(0), select(eq(ms, f(Float.NEGATIVE_INFINITY)), f(0), exp(sub(ms, mAll)))));
                x.barrier();
                Expr.Var dd = var(x.fresh("d"), KType.I32);
                x.forRange(dd, tid(0), c(hd), c(threads), 0, y -> {
                    Expr.Var ll = y.let("ll", f(0));
                    Expr.Var aa = y.let("aa", f(0));
                    for (int s2 = 0; s2 < splits; s2++) {
                        Expr.Var wgt = y.let(y.fresh("wg"), sload(sw, c(s2)));
                        Expr.Var base = y.let(y.fresh("base"), mul(add(mul(qh, c(splits)), c(s2)), c(hd + 2)));
                        y.assign(ll, fma(loadCoherent(part, add(base, c(1))), wgt, ll));
                        y.assign(aa, fma(loadCoherent(part, add(base, add(dd, c(2)))), wgt, aa));
                    }
                    y.store(out, add(mul(qh, c(hd)), dd), div(aa, ll));
                });
                x.barrier(); // the weights are rewritten for the next query head
            }
            x.ifThen(eq(tid(0), c(0)), y -> y.store(done, g, c(0)));
        });
        return Optional.of(List.of(lb.build()));
    }
}
