package jmlc.compiler.schedule.rule;

import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Shared;

import static jmlc.compiler.kernel.K.*;

/** Warp and block reductions in the kernel IR: butterfly shuffles, then shared memory across warps. */
final class Reductions {
    private Reductions() {}

    /** Sum (or max) of {@code v} over the {@code width} lanes of each lane group; every lane gets the result. */
    static Expr.Var warpReduce(K.Body b, Expr.Var v, int width, boolean max) {
        for (int m = width / 2; m >= 1; m /= 2) b.assign(v, max ? K.max(v, shflXor(v, m)) : add(v, shflXor(v, m)));
        return v;
    }

    /**
     * Sum (or max) of {@code v} over all {@code threads} of the block, given to every thread.
     * {@code scratch} holds one f32 per warp; the caller must not reuse it before another barrier.
     */
    static Expr.Var blockReduce(K.Body b, Expr.Var v, int threads, int warpSize, Shared scratch, boolean max) {
        if (threads <= warpSize) return warpReduce(b, v, threads, max);
        warpReduce(b, v, warpSize, max);
        int warps = threads / warpSize;
        b.ifThen(eq(mod(tid(0), c(warpSize)), c(0)), x -> x.sstore(scratch, div(tid(0), c(warpSize)), v));
        b.barrier();
        Expr.Var total = b.let(b.fresh("total"), sload(scratch, c(0)));
        for (int w = 1; w < warps; w++) b.assign(total, max ? K.max(total, sload(scratch, c(w))) : add(total, sload(scratch, c(w))));
        return total;
    }

    static Shared scratch(jmlc.compiler.schedule.LaunchBuilder lb, String name, int threads, int warpSize) {
        return lb.shared(name, KType.F32, Math.max(1, threads / warpSize));
    }
}
