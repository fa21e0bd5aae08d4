package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.quant.Int8KvCache;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.LaunchBuilder;
import jmlc.compiler.schedule.ScheduleContext;
import jmlc.compiler.schedule.ScheduleRule;

import java.util.List;
import java.util.Optional;

import static jmlc.compiler.kernel.K.*;

/**
 * The fallback, last in the rule list: one thread per output element (per rotated pair for rope)
 * for every op that is a map or a gather: add, mul, silu, silu_mul, slice, last_row, embed,
 * dequantize, rope, kv_append. Correct for any shape; fast enough for everything but matmuls,
 * norms and attention, which have their own rules.
 */
public final class ElementwiseRule implements ScheduleRule {
    static final int THREADS = 256;

    @Override
    public String name() {
        return "elementwise";
    }

    @Override
    public Optional<List<KernelCall>> apply(Node n, ScheduleContext ctx) {
        KernelCall call = switch (n.op()) {
            case Op.Add a -> binary(ctx, n, "add", (x, y) -> add(x, y));
            case Op.Mul m -> binary(ctx, n, "mul", (x, y) -> mul(x, y));
            case Op.Silu s -> silu(ctx, n);
            case Op.SiluMul s -> siluMul(ctx, n);
            case Op.Slice s -> slice(ctx, n, s);
            case Op.LastRow l -> lastRow(ctx, n);
            case Op.Embed e -> embed(ctx, n);
            case Op.Dequantize d -> dequantize(ctx, n);
            case Op.Rope r -> rope(n, r, ctx);
            case Op.KvAppend k -> kvAppend(ctx, n);
            default -> null;
        };
        return Optional.ofNullable(call).map(List::of);
    }

    /** {@code x · sigmoid(x)} in f32. */
    static Expr silu(Expr x) {
        return div(x, add(f(1), exp(neg(x))));
    }

    /** One thread per element of a {@code [rows, cols]} output ({@code rows} those of {@code out}). */
    private static LaunchBuilder perElement(ScheduleContext ctx, String name, String summary, Value out, long cols) {
        LaunchBuilder lb = ctx.launch(name, summary);
        Expr total = mul(lb.rows(out), c((int) cols));
        lb.block(THREADS).grid(LaunchBuilder.ceilDiv(total, THREADS)).knob("threads", THREADS);
        return lb;
    }

    /** The thread's flat output index; threads past {@code rows(out) · cols} leave. */
    private static Expr.Var guardedIndex(LaunchBuilder lb, Value out, long cols) {
        Expr.Var i = lb.body.let("i", add(mul(bid(0), c(THREADS)), tid(0)));
        lb.body.ifThen(ge(i, mul(lb.rows(out), c((int) cols))), b -> b.ret());
        return i;
    }

    private KernelCall binary(ScheduleContext ctx, Node n, String op, java.util.function.BinaryOperator<Expr> f) {
        long cols = n.output().type().shape().cols();
        LaunchBuilder lb = perElement(ctx, op + "_" + cols, "y = a " + op + " b over [seq, " + cols + "]", n.output(), cols);
        Buffer a = lb.input("a", n.input(0)), b = lb.input("b", n.input(1)), y = lb.output("y", n.output());
        Expr.Var i = guardedIndex(lb, n.output(), cols);
        lb.body.store(y, i, f.apply(load(a, i), load(b, i)));
        return lb.build();
    }

    private KernelCall silu(ScheduleContext ctx, Node n) {
        long cols = n.output().type().shape().cols();
        LaunchBuilder lb = perElement(ctx, "silu_" + cols, "y = silu(x) over [seq, " + cols + "]", n.output(), cols);
        Buffer x = lb.input("x", n.input(0)), y = lb.output("y", n.output());
        Expr.Var i = guardedIndex(lb, n.output(), cols);
        lb.body.store(y, i, silu(load(x, i)));
        return lb.build();
    }

    private KernelCall siluMul(ScheduleContext ctx, Node n) {
        long f = n.output().type().shape().cols();
        LaunchBuilder lb = perElement(ctx, "silu_mul_" + f, "y[s, i] = silu(x[s, i]) * x[s, F + i], F = " + f, n.output(), f);
        Buffer x = lb.input("x", n.input(0)), y = lb.output("y", n.output());
        Expr.Var i = guardedIndex(lb, n.output(), f);
        Expr.Var s = lb.body.let("s", div(i, c((int) f)));
        Expr.Var j = lb.body.let("j", mod(i, c((int) f)));
        Expr.Var base = lb.body.let("base", mul(s, c((int) (2 * f))));
        lb.body.store(y, i, mul(silu(load(x, add(base, j))), load(x, add(base, add(j, c((int) f))))));
        return lb.build();
    }

    private KernelCall slice(ScheduleContext ctx, Node n, Op.Slice sl) {
        long cols = n.input(0).type().shape().cols();
        LaunchBuilder lb = perElement(ctx, "slice_" + cols + "_" + sl.start() + "_" + sl.len(), "y = x[:, " + sl.start() + ":" + (sl.start() + sl.len()) + "]", n.output(), sl.len());
        Buffer x = lb.input("x", n.input(0)), y = lb.output("y", n.output());
        Expr.Var i = guardedIndex(lb, n.output(), sl.len());
        Expr.Var s = lb.body.let("s", div(i, c((int) sl.len())));
        lb.body.store(y, i, load(x, add(mul(s, c((int) cols)), add(c((int) sl.start()), mod(i, c((int) sl.len()))))));
        return lb.build();
    }

    private KernelCall lastRow(ScheduleContext ctx, Node n) {
        long cols = n.output().type().shape().cols();
        LaunchBuilder lb = ctx.launch("last_row_" + cols, "y = x[seq - 1, :]");
        lb.block(THREADS).grid(c((int) ((cols + THREADS - 1) / THREADS))).knob("threads", THREADS);
        Buffer x = lb.input("x", n.input(0)), y = lb.output("y", n.output());
        Expr.Var i = lb.body.let("i", add(mul(bid(0), c(THREADS)), tid(0)));
        lb.body.ifThen(lt(i, c((int) cols)), b -> b.store(y, i, load(x, add(mul(sub(lb.seq(), c(1)), c((int) cols)), i))));
        return lb.build();
    }

    /** Element {@code index} (row-major) of a weight, dequantized to f32. */
    static Expr weightElement(Value w, Buffer data, Buffer scales, Expr index, K.Body b) {
        if (!w.type().dtype().isQuantized()) return K.loadF32(data, index);
        QuantScheme q = w.type().quant();
        Expr word, value;
        if (q.bits() == 4) {
            word = load(data, div(index, c(8)));
            value = and(shr(word, cast(KType.U32, mul(mod(index, c(8)), c(4)))), u(15));
            value = sub(cast(KType.F32, value), f(q.zero()));
        } else {
            word = load(data, div(index, c(4)));
            Expr shift = cast(KType.U32, mul(mod(index, c(4)), c(8)));
            // sign-extend the byte: shift it to the top, arithmetic shift down
            value = cast(KType.F32, shr(bitcast(KType.I32, shl(word, sub(u(24), shift))), c(24)));
        }
        return mul(value, loadF32(scales, div(index, c(q.groupSize()))));
    }

    private KernelCall embed(ScheduleContext ctx, Node n) {
        Value table = n.input(0);
        long d = table.type().shape().dim(1).size();
        LaunchBuilder lb = perElement(ctx, "embed_" + table.type().toString(), "y[s, :] = table[tokens[s], :] (dequantized)", n.output(), d);
        Buffer data = lb.weightData("table", table);
        Buffer scales = table.type().dtype().isQuantized() ? lb.weightScales("scales", table) : null;
        Buffer tokens = lb.input("tokens", n.input(1)), y = lb.output("y", n.output());
        Expr.Var i = guardedIndex(lb, n.output(), d);
        Expr.Var tok = lb.body.let("tok", load(tokens, div(i, c((int) d))));
        lb.body.store(y, i, weightElement(table, data, scales, add(mul(tok, c((int) d)), mod(i, c((int) d))), lb.body));
        return lb.build();
    }

    private KernelCall dequantize(ScheduleContext ctx, Node n) {
        Value w = n.input(0);
        long rows = w.type().shape().dim(0).size(), cols = w.type().shape().dim(1).size();
        LaunchBuilder lb = ctx.launch("dequantize_" + w.type(), "y = dequantize(w), " + rows + "x" + cols);
        lb.block(THREADS).grid(c((int) ((rows * cols + THREADS - 1) / THREADS))).knob("threads", THREADS);
        Buffer data = lb.weightData("w", w), scales = lb.weightScales("scales", w), y = lb.output("y", n.output());
        Expr.Var i = lb.body.let("i", add(mul(bid(0), c(THREADS)), tid(0)));
        lb.body.ifThen(lt(i, c((int) (rows * cols))), b -> b.store(y, i, weightElement(w, data, scales, i, b)));
        return lb.build();
    }

    /** Host-computed {@code cos, sin} of {@code p · invFreq[i]} for every position: {@code [maxCtx, hd/2, 2]}. */
    public static float[] ropeTable(jmlc.compiler.ir.RopeSpec spec, int positions) {
        double[] inv = spec.invFreq();
        float[] t = new float[positions * inv.length * 2];
        for (int p = 0; p < positions; p++)
            for (int i = 0; i < inv.length; i++) {
                double a = p * inv[i];
                t[(p * inv.length + i) * 2] = (float) Math.cos(a);
                t[(p * inv.length + i) * 2 + 1] = (float) Math.sin(a);
            }
        return t;
    }

    static String ropeTableId(jmlc.compiler.ir.RopeSpec spec, int positions) {
        return "rope_" + spec.headDim() + "_" + spec.theta() + "_" + spec.scaling().hashCode() + "_" + positions;
    }

    private KernelCall rope(Node n, Op.Rope r, ScheduleContext ctx) {
        var spec = r.spec();
        long cols = n.output().type().shape().cols();
        int half = spec.headDim() / 2, pairs = (int) (cols / 2);
        int positions = RopeKvAppendRule.maxPositions(ctx);
        LaunchBuilder lb = perElement(ctx, "rope_" + cols + "_" + spec.style().name().toLowerCase(), "rotary embedding of [seq, " + cols + "] at positions pos..", n.output(), pairs);
        Buffer x = lb.input("x", n.input(0)), pos = lb.input("pos", n.input(1)), y = lb.output("y", n.output());
        Buffer table = lb.constant("cossin", ropeTableId(spec, positions), ropeTable(spec, positions));
        Expr.Var i = guardedIndex(lb, n.output(), pairs);
        Expr.Var s = lb.body.let("s", div(i, c(pairs)));
        Expr.Var pr = lb.body.let("pr", mod(i, c(pairs)));
        Expr.Var head = lb.body.let("head", div(pr, c(half)));
        Expr.Var k = lb.body.let("k", mod(pr, c(half)));
        Expr.Var base = lb.body.let("base", add(mul(s, c((int) cols)), mul(head, c(spec.headDim()))));
        RopeKvAppendRule.rotateTo(lb.body, spec, x, base, base, k, add(load(pos, c(0)), s), table, (b, idx, v) -> b.store(y, idx, v));
        return lb.build();
    }

    private KernelCall kvAppend(ScheduleContext ctx, Node n) {
        Value cache = n.input(0);
        long[] sh = cache.type().shape().dims().stream().mapToLong(d -> d.size()).toArray();
        int nKv = (int) sh[0], ctxLen = (int) sh[1], hd = (int) sh[2];
        int group = Int8KvCache.is(cache.type()) ? Int8KvCache.group(hd) : 1;
        int perRow = nKv * hd / group; // a thread per element, or per quantization group of an int8 cache
        LaunchBuilder lb = perElement(ctx, "kv_append_" + nKv + "x" + ctxLen + "x" + hd + "_" + cache.type().dtype(), "cache[h, pos + s, :] = x[s, h*hd : (h+1)*hd]", n.input(1), perRow);
        Buffer x = lb.input("x", n.input(1)), pos = lb.input("pos", n.input(2));
        KvCacheAccess out = KvCacheAccess.of(lb, "cache", n.output(), true);
        Expr.Var i = guardedIndex(lb, n.input(1), perRow);
        Expr.Var s = lb.body.let("s", div(i, c(perRow)));
        Expr.Var e = lb.body.let("e", mul(mod(i, c(perRow)), c(group))); // first element of the thread's group in the row
        Expr.Var h = lb.body.let("h", div(e, c(hd)));
        Expr.Var dd = lb.body.let("d", mod(e, c(hd)));
        Expr at = add(mul(add(mul(h, c(ctxLen)), add(load(pos, c(0)), s)), c(hd)), dd);
        Expr.Var src = lb.body.let("src", add(mul(s, c(nKv * hd)), e));
        out.storeGroup(lb.body, at, j -> load(x, add(src, c(j))));
        return lb.build();
    }
}
