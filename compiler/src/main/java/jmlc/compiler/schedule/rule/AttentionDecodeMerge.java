package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.Node;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Shared;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.LaunchBuilder;
import jmlc.compiler.schedule.ScheduleContext;

import java.util.List;

import static jmlc.compiler.kernel.K.*;

/**
 * How {@link AttentionDecodeRule}'s split partials, {@code (max, sum, acc[hd])} per query head and split, become the
 * attention's output: the combine kernel (a thread per dim of a query head reads every split from the scratch), or
 * with knob {@code cluster} the splits' own blocks, each merging a share from the others' shared memory; and how an
 * output element is stored (f16 in pairs).
 */
final class AttentionDecodeMerge {
    private AttentionDecodeMerge() {}

    /** Splits the combine reads at once per group (three loads each in flight per thread). */
    static final int COMBINE_GROUP = 32;

    /**
     * Knob {@code cluster}: the blocks of KV head {@code g} (its {@code splits} splits, a cluster along y, rank = split
     * {@code sp}) merge their partials from each other's shared memory. After a cluster barrier, split {@code sp} takes
     * the {@code sp}-th of {@code splits} consecutive shares of the (query head, dim) pairs (so every block merges some,
     * and its threads store neighbouring dims), a thread a pair: it reads every split's max and sum of that head and its
     * value of that dim, weighs them as the combine does, and writes the output; a last cluster barrier keeps each block
     * until the others have read it.
     */
    static void inCluster(K.Body b, Shared split, Buffer out, Expr g, Expr sp, int splits, int group, int hd, int threads) {
        b.clusterBarrier(1, splits, 1);
        Expr minusInf = f(Float.NEGATIVE_INFINITY);
        Expr.Var j = var("jm", KType.I32);
        int share = (group * hd + splits - 1) / splits;
        Expr.Var shareEnd = b.let("share_end", min(c(group * hd), mul(add(sp, c(1)), c(share))));
        b.forRange(j, add(mul(sp, c(share)), tid(0)), shareEnd, c(threads), 0, x -> {
            Expr.Var h = x.let("hm", div(j, c(hd)));
            Expr.Var d = x.let("dm", mod(j, c(hd)));
            Expr.Var base = x.let("mbase", mul(h, c(hd + 2)));
            Expr.Var[] ms = new Expr.Var[splits];
            Expr.Var mAll = x.let("m_all", minusInf);
            for (int s2 = 0; s2 < splits; s2++) {
                ms[s2] = x.let(x.fresh("m"), sloadCluster(split, c(s2), base));
                x.assign(mAll, max(mAll, ms[s2]));
            }
            Expr.Var ll = x.let("ll", f(0));
            Expr.Var aa = x.let("aa", f(0));
            for (int s2 = 0; s2 < splits; s2++) { // an empty split (max -inf) weighs 0
                Expr.Var wt = x.let(x.fresh("w"), select(eq(ms[s2], minusInf), f(0), exp(sub(ms[s2], mAll))));
                x.assign(ll, fma(sloadCluster(split, c(s2), add(base, c(1))), wt, ll));
                x.assign(aa, fma(sloadCluster(split, c(s2), add(base, add(d, c(2)))), wt, aa));
            }
            storeOutput(x, out, add(mul(add(mul(g, c(group)), h), c(hd)), d), d, div(aa, ll), false);
        });
        b.clusterBarrier(1, splits, 1);
    }

    /**
     * The combine kernel: a thread per dim merges the splits itself, reading every split's max, sum
     * and value at once (one round trip to memory, no barriers; it was three, with two block
     * reductions): groups of up to {@link #COMBINE_GROUP} splits, merged online (the running sums
     * rescaled when a group raises the max).
     */
    static KernelCall combine(ScheduleContext ctx, Node n, String sig, String scratchId, long partialFloats, int splits, int nH, int hd, int warp) {
        LaunchBuilder cb = ctx.launch(sig + "_s" + splits + "_combine", "out[h] = merge of the " + splits + " split partials of query head h");
        int cthreads = Math.max(warp, hd);
        cb.block(cthreads).grid(c(nH)).knob("splits", splits);
        Buffer part2 = cb.scratch("partial", scratchId, KType.F32, partialFloats);
        Buffer out = cb.output("out", n.output());
        K.Body c2 = cb.body;
        Expr.Var h = c2.let("h", bid(0));
        Expr.Var dd = var("d", KType.I32);
        Expr minusInf = f(Float.NEGATIVE_INFINITY);
        c2.forRange(dd, tid(0), c(hd), c(cthreads), 0, x -> {
            Expr.Var mAll = x.let("m_all", minusInf);
            Expr.Var ll = x.let("ll", f(0));
            Expr.Var aa = x.let("aa", f(0));
            for (int g0 = 0; g0 < splits; g0 += COMBINE_GROUP) {
                int g1 = Math.min(splits, g0 + COMBINE_GROUP);
                Expr.Var[] sm = new Expr.Var[g1 - g0], sl = new Expr.Var[g1 - g0], sa = new Expr.Var[g1 - g0];
                for (int s2 = g0; s2 < g1; s2++) {
                    Expr.Var base = x.let(x.fresh("base"), mul(add(mul(h, c(splits)), c(s2)), c(hd + 2)));
                    sm[s2 - g0] = x.let(x.fresh("m"), load(part2, base));
                    sl[s2 - g0] = x.let(x.fresh("l"), load(part2, add(base, c(1))));
                    sa[s2 - g0] = x.let(x.fresh("a"), load(part2, add(base, add(dd, c(2)))));
                }
                Expr.Var mNew = x.let(x.fresh("m_new"), mAll);
                for (Expr.Var mv : sm) x.assign(mNew, max(mNew, mv));
                if (g0 > 0) { // rescale what earlier groups summed (nothing yet while the max is -inf)
                    Expr.Var r = x.let(x.fresh("rescale"), select(eq(mAll, minusInf), f(0), exp(sub(mAll, mNew))));
                    x.assign(ll, mul(ll, r));
                    x.assign(aa, mul(aa, r));
                }
                x.assign(mAll, mNew);
                for (int i = 0; i < sm.length; i++) { // an empty split (max -inf) weighs 0
                    Expr.Var wt = x.let(x.fresh("w"), select(eq(sm[i], minusInf), f(0), exp(sub(sm[i], mAll))));
                    x.assign(ll, fma(sl[i], wt, ll));
                    x.assign(aa, fma(sa[i], wt, aa));
                }
            }
            storeOutput(x, out, add(mul(h, c(hd)), dd), dd, div(aa, ll), hd % cthreads == 0 && hd % 2 == 0);
        });
        return cb.build();
    }

    /**
     * Stores output element {@code at} (dim {@code d} of its head). An f16 output goes out as pairs, 4 bytes a store
     * (2-byte stores measured 1% slower end to end on the H100): the lane of an even dim takes its neighbour's value
     * by a shuffle, so only where every lane of a subgroup runs every iteration ({@code uniform}: lanes {@code d}
     * and {@code d ^ 1} are neighbouring threads).
     */
    static void storeOutput(K.Body x, Buffer out, Expr at, Expr d, Expr value, boolean uniform) {
        if (!out.element().equals(KType.F16) || !uniform) {
            x.storeF(out, at, value);
            return;
        }
        Expr.Var v = x.let("o", value);
        Expr.Var next = x.let("o_next", shflXor(v, 1));
        x.ifThen(eq(mod(d, c(2)), c(0)),
                y -> y.store(out, div(at, c(2)), new Expr.Pack(KType.F16X2, List.of(cast(KType.F16, v), cast(KType.F16, next)))));
    }
}
