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

import java.util.List;
import java.util.Optional;

import static jmlc.compiler.kernel.K.*;

/**
 * {@code rms_norm} and {@code add_rms_norm}: one block per row; each thread sums the squares of a
 * strided slice of the row (writing {@code a + b} first for the fused form), a block reduction
 * gives the row's mean square, then each thread scales its slice. Knob: {@code threads}.
 */
public final class NormRule implements ScheduleRule {

    @Override
    public String name() {
        return "norm";
    }

    @Override
    public Optional<List<KernelCall>> apply(Node n, ScheduleContext ctx) {
        boolean fused = n.op() instanceof Op.AddRmsNorm;
        if (!(n.op() instanceof Op.RmsNorm) && !fused) return Optional.empty();
        double eps = fused ? ((Op.AddRmsNorm) n.op()).eps() : ((Op.RmsNorm) n.op()).eps();
        int d = (int) n.input(0).type().shape().cols();
        int warp = ctx.caps().subgroupSize(), maxThreads = ctx.caps().maxThreadsPerBlock();
        KnobSpace space = new KnobSpace(ctx.signature(fused ? "add_rms_norm" : "rms_norm", String.valueOf(d)))
                .add(Knob.oneOf("threads", Math.min(256, Math.max(warp, Integer.highestOneBit(Math.max(1, d / 4)))), "threads a row (a power of two)",
                        1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024).tryOnly(64, 128, 256, 512))
                .require("threads <= " + maxThreads + " a block", v -> v.get("threads") <= maxThreads);
        String sig = space.signature().key();
        int threads = ctx.choose(space).get("threads");
        LaunchBuilder lb = ctx.launch(sig + "_t" + threads, fused ? "s = a + b; y = s / sqrt(mean(s^2) + eps) * w, per row" : "y = x / sqrt(mean(x^2) + eps) * w, per row");
        lb.block(threads).grid(lb.rows(n.input(0))).knob("threads", threads);
        Buffer a = lb.input(fused ? "a" : "x", n.input(0));
        Buffer bIn = fused ? lb.input("b", n.input(1)) : null;
        Buffer w = lb.input("w", n.input(fused ? 2 : 1));
        Buffer sum = fused ? lb.output("sum", n.output(0)) : null;
        Buffer y = lb.output("y", fused ? n.output(1) : n.output());
        var red = Reductions.scratch(lb, "red", threads, warp);
        K.Body b = lb.body;
        Expr.Var row = b.let("row", mul(bid(0), c(d)));
        Expr.Var ss = b.let("ss", f(0));
        Expr.Var i = var("i", KType.I32);
        b.forRange(i, tid(0), c(d), c(threads), 0, x -> {
            Expr.Var v = x.let("v", load(a, add(row, i)));
            if (fused) {
                x.assign(v, add(v, load(bIn, add(row, i))));
                x.store(sum, add(row, i), v);
            }
            x.assign(ss, fma(v, v, ss));
        });
        Expr.Var total = Reductions.blockReduce(b, ss, threads, warp, red, false);
        Expr.Var inv = b.let("inv", rsqrt(add(div(total, f(d)), f(eps))));
        Expr.Var j = var("j", KType.I32);
        b.forRange(j, tid(0), c(d), c(threads), 0, x -> x.store(y, add(row, j), mul(mul(load(fused ? sum : a, add(row, j)), inv), load(w, j))));
        return Optional.of(List.of(lb.build()));
    }
}
