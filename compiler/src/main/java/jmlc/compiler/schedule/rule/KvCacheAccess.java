package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.quant.Int8KvCache;
import jmlc.compiler.schedule.LaunchBuilder;

import java.util.function.IntFunction;

import static jmlc.compiler.kernel.K.*;

/**
 * A KV cache as a kernel reads and writes it, whatever its type: f32 and f16 caches element by
 * element; an int8 cache ({@link Int8KvCache}) through its bytes and its f16 scales, one per
 * {@link #group()} elements of a row, so a writer quantizes a whole group in one thread.
 */
final class KvCacheAccess {
    private final Buffer values, scales;
    private final int group;

    private KvCacheAccess(Buffer values, Buffer scales, int group) {
        this.values = values;
        this.scales = scales;
        this.group = group;
    }

    /** Cache {@code cache} ({@code [nKv, ctx, hd]}) as buffer {@code name} of {@code lb} (and {@code name_scales} for int8). */
    static KvCacheAccess of(LaunchBuilder lb, String name, Value cache, boolean written) {
        Buffer v = written ? lb.output(name, cache) : lb.input(name, cache);
        if (!Int8KvCache.is(cache.type())) return new KvCacheAccess(v, null, 1);
        int hd = (int) cache.type().shape().dim(2).size();
        return new KvCacheAccess(v, lb.kvScales(name + "_scales", cache, written), Int8KvCache.group(hd));
    }

    boolean int8() {
        return scales != null;
    }

    /** Elements a writer stores together: a scale's group for int8, else 1. */
    int group() {
        return group;
    }

    /** Element {@code index} as f32. */
    Expr load(Expr index) {
        if (!int8()) return loadF32(values, index);
        return mul(cast(KType.F32, K.load(values, index)), loadF32(scales, div(index, c(group))));
    }

    /** Stores f32 {@code value} as element {@code index} of an f32 or f16 cache. */
    void store(K.Body b, Expr index, Expr value) {
        if (int8()) throw new IllegalStateException("an int8 cache is written a group at a time (storeGroup)");
        b.storeF(values, index, value);
    }

    /**
     * Stores elements {@code first .. first + group - 1} (a group: {@code first} a multiple of the
     * group) from {@code value.apply(i)}, each computed once: into an int8 cache quantized by
     * {@link Int8KvCache}'s formulas with the group's new scale.
     */
    void storeGroup(K.Body b, Expr first, IntFunction<Expr> value) {
        Expr.Var[] x = new Expr.Var[group];
        for (int i = 0; i < group; i++) x[i] = b.let(b.fresh("kvx"), value.apply(i));
        if (!int8()) {
            for (int i = 0; i < group; i++) b.storeF(values, add(first, c(i)), x[i]);
            return;
        }
        Expr.Var amax = b.let(b.fresh("amax"), abs(x[0]));
        for (int i = 1; i < group; i++) b.assign(amax, max(amax, abs(x[i])));
        Expr.Var s16 = b.let(b.fresh("scale"), cast(KType.F16, mul(amax, f(1f / 127f))));
        Expr.Var s = b.let(b.fresh("s"), cast(KType.F32, s16));
        Expr.Var inv = b.let(b.fresh("inv"), select(eq(s, f(0)), f(0), div(f(1), s)));
        b.store(scales, div(first, c(group)), s16);
        for (int i = 0; i < group; i++) {
            // round half away from zero, then clamp: a scale of 0 gives 0
            Expr r = add(mul(x[i], inv), select(ge(x[i], f(0)), f(0.5f), f(-0.5f)));
            b.store(values, add(first, c(i)), cast(KType.I8, min(max(cast(KType.I32, r), c(-127)), c(127))));
        }
    }
}
