package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.quant.Int8KvCache;
import jmlc.compiler.schedule.LaunchBuilder;

import java.util.List;
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
    private final long rowBytes;

    private KvCacheAccess(Buffer values, Buffer scales, int group, long rowBytes) {
        this.values = values;
        this.scales = scales;
        this.group = group;
        this.rowBytes = rowBytes;
    }

    /** Cache {@code cache} ({@code [nKv, ctx, hd]}) as buffer {@code name} of {@code lb} (and {@code name_scales} for int8). */
    static KvCacheAccess of(LaunchBuilder lb, String name, Value cache, boolean written) {
        Buffer v = written ? lb.output(name, cache) : lb.input(name, cache);
        if (!Int8KvCache.is(cache.type())) return new KvCacheAccess(v, null, 1, rowBytes(cache.type()));
        int hd = (int) cache.type().shape().dim(2).size();
        return new KvCacheAccess(v, lb.kvScales(name + "_scales", cache, written), Int8KvCache.group(hd), rowBytes(cache.type()));
    }

    boolean int8() {
        return scales != null;
    }

    /** Elements a writer stores together: a scale's group for int8, else 1. */
    int group() {
        return group;
    }

    /** Bytes of the values (not an int8 cache's scales) a row of a cache of type {@code cache} ({@code [nKv, ctx, hd]}) takes. */
    static long rowBytes(TensorType cache) {
        return cache.shape().dim(2).size() * cache.dtype().bits() / 8;
    }

    /**
     * Asks the L2 for {@code rows} consecutive rows of the values from element {@code first} (a row's first), in one
     * bulk prefetch ({@link #rowBytes} a multiple of 16). An int8 cache's scales are not asked for: their rows of
     * {@code hd / group} halves are not 16-byte units.
     */
    void prefetchRows(K.Body b, Expr first, Expr rows) {
        b.prefetchRange(values, first, mul(rows, c((int) rowBytes)));
    }

    /** Element {@code index} as f32. */
    Expr load(Expr index) {
        if (!int8()) return loadF32(values, index);
        return mul(cast(KType.F32, K.load(values, index)), loadF32(scales, div(index, c(group))));
    }

    /** True when a cache of {@code type} can be read 4 elements at once ({@link #load4}). */
    static boolean wide(TensorType type) {
        if (type.dtype() == DType.F16) return true;
        return Int8KvCache.is(type) && Int8KvCache.group((int) type.shape().dim(2).size()) % 4 == 0;
    }

    /**
     * True when the lanes of a subgroup of {@code subgroupSize} can each hold consecutive dims of a
     * head of a cache of {@code type}, 4 a load: the cache reads 4 at once and the head is whole loads a lane.
     */
    static boolean fourALane(TensorType type, int subgroupSize) {
        return wide(type) && type.shape().dim(2).size() % (4L * subgroupSize) == 0;
    }

    /**
     * Dim {@code i} of the {@code dpl} a lane holds: with {@code consecutive}, {@code dpl·lane + i} (its dims
     * read 4 a load, {@link #load4}); else {@code lane + i·subgroupSize} (a subgroup's loads of one dim contiguous).
     */
    static Expr laneDim(Expr lane, int i, int dpl, int subgroupSize, boolean consecutive) {
        return consecutive ? add(mul(lane, c(dpl)), c(i)) : add(lane, c(i * subgroupSize));
    }

    /**
     * Elements {@code index .. index + 3} ({@code index} a multiple of 4) as f32 in one load: of an f16
     * cache 8 bytes; of an int8 cache a 32-bit word of bytes and the scale of their group (the 4
     * share it), each byte sign-extended by shifts.
     */
    List<Expr> load4(K.Body b, Expr index) {
        if (int8() ? group % 4 != 0 : !values.element().equals(KType.F16))
            throw new IllegalStateException("4 elements a load need an f16 cache or an int8 one in groups of a multiple of 4");
        List<Expr> out = new java.util.ArrayList<>(4);
        if (!int8()) {
            Expr.Var w2 = b.let(b.fresh("kvh"), K.load(values, div(index, c(4)), KType.U32X2));
            for (int j = 0; j < 4; j++) out.add(cast(KType.F32, halfOf(lane(w2, j / 2), j % 2 == 1)));
            return out;
        }
        Expr.Var word = b.let(b.fresh("kvw"), bitcast(KType.I32, K.load(values, div(index, c(4)), KType.U32)));
        Expr.Var s = b.let(b.fresh("kvs"), loadF32(scales, div(index, c(group))));
        for (int j = 0; j < 4; j++) out.add(mul(cast(KType.F32, shr(shl(word, c(24 - 8 * j)), c(24))), s));
        return out;
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
