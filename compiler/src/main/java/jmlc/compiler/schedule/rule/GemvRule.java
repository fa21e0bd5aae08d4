package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Shared;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.KernelSignature;
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
 * Matrix-vector product {@code y[s, n] = Σ_k x[s, k] · w[n, k] (+ bias)}, the decode hot path,
 * for q4/q8 group-quantized and f16/f32 dense weights, dequantizing in registers.
 *
 * <p>A row is read by {@code threads} consecutive lanes, each loading {@code vector} consecutive u32
 * words at a time, so a warp's loads are contiguous; {@code unroll} loads are issued before any is
 * used, to keep bytes in flight; a block holds {@code rows} rows; lanes reduce with shuffles
 * (then shared memory when a row spans several warps). Nibbles become floats without int-to-float
 * converts: OR-ing a nibble into the mantissa of 2^23 gives the float {@code 2^23 + q}. The group
 * scale multiplies each chunk's partial sum once. Blocks run over {@code seq} in grid y, so the rule
 * is correct for any token count (prefill prefers {@link GemmRule}).
 */
public final class GemvRule implements ScheduleRule {

    /** Defaults for NVIDIA sm_80+ (to be tuned per device; see bench/RESULTS.md). */
    static final int THREADS = 32, ROWS = 4, VECTOR = 1, UNROLL = 4;

    @Override
    public String name() {
        return "gemv";
    }

    /** Weight values per u32 word. */
    static int perWord(Value w) {
        return switch (w.type().dtype()) {
            case Q4 -> 8;
            case Q8 -> 4;
            case F16 -> 2;
            case F32 -> 1;
            default -> throw new IllegalArgumentException("no GEMV for weights of " + w.type());
        };
    }

    /** What distinguishes one GEMV's knobs from another's: the weight's type and shape ({@code q4f16g32z7_4096x4096}). */
    public static String shape(Value w) {
        long n = w.type().shape().dim(0).size(), k = w.type().shape().dim(1).size();
        return w.type().toString().replaceAll("[^a-z0-9]", "") + "_" + n + "x" + k;
    }

    /**
     * The knobs of the f32 GEMV for weight {@code w}: threads per row, rows per block, u32 words a
     * lane loads at once (the largest of 4, 2, 1 that divides a row and a quantization group by
     * default), loads in flight.
     */
    static KnobSpace space(ScheduleContext ctx, Value w) {
        int k = (int) w.type().shape().dim(1).size(), e = perWord(w), words = k / e;
        QuantScheme qs = w.type().dtype().isQuantized() ? w.type().quant() : null;
        int warp = ctx.caps().subgroupSize(), maxThreads = ctx.caps().maxThreadsPerBlock();
        java.util.function.IntPredicate fits = v -> words % v == 0 && (qs == null || qs.groupSize() % (v * e) == 0);
        int vector = VECTOR;
        while (vector > 1 && !fits.test(vector)) vector /= 2;
        return new KnobSpace(ctx.signature("gemv", shape(w)))
                .add(Knob.oneOf("threads", THREADS, "threads reading one row", 8, 16, 32, 64, 128, 256).tryOnly(32, 64, 128))
                .add(Knob.oneOf("rows", ROWS, "rows per block", 1, 2, 4, 8, 16).tryOnly(1, 2, 4, 8))
                .add(Knob.oneOf("vector", vector, "u32 words a lane loads at once", 1, 2, 4))
                .add(Knob.range("unroll", UNROLL, 1, 16, "loads issued before any is used", 2, 4, 8))
                .require("vector divides the row's words and a quantization group", v -> fits.test(v.get("vector")))
                .require("threads x rows <= " + maxThreads + " threads a block", v -> v.get("threads") * v.get("rows") <= maxThreads)
                .require("threads within one subgroup, or whole subgroups of " + warp, v -> v.get("threads") <= warp || v.get("threads") % warp == 0);
    }

    @Override
    public Optional<List<KernelCall>> apply(Node node, ScheduleContext ctx) {
        MatmulParts m = MatmulParts.of(node);
        if (m == null) return Optional.empty();
        Value w = m.w();
        boolean q = w.type().dtype().isQuantized();
        // dense weights are params, or a dequantized temp when FuseDequantMatmul is switched off
        if (!q && w.type().dtype() != DType.F32 && w.type().dtype() != DType.F16) return Optional.empty();
        int n = (int) m.n(), k = (int) m.k();
        int e = perWord(w);
        if (k % e != 0) return Optional.empty();
        if (q && w.type().quant().groupSize() % e != 0) return Optional.empty();
        KnobSpace space = space(ctx, w);
        Map<String, Integer> v = ctx.choose(space);
        int threads = v.get("threads"), rows = v.get("rows"), vector = v.get("vector"), unroll = v.get("unroll");
        List<KernelCall> calls = new ArrayList<>();
        if (m.hasPrologue()) calls.add(MatmulPrologue.kernel(m, ctx));
        calls.add(kernel(m, node.output(), ctx, space.signature(), n, k, e, threads, rows, vector, unroll));
        if (m.siluMulPairs()) calls.add(MatmulPrologue.siluMulPairsKernel(m, node.output(), ctx));
        return Optional.of(calls);
    }

    private KernelCall kernel(MatmulParts m, Value out, ScheduleContext ctx, KernelSignature sig, int n, int k, int e, int threads, int rows, int vector, int unroll) {
        Value w = m.w();
        boolean quant = w.type().dtype().isQuantized();
        QuantScheme qs = quant ? w.type().quant() : null;
        int warp = ctx.caps().subgroupSize();
        int chunkValues = vector * e, chunks = k / chunkValues;
        String name = sig.key() + MatmulPrologue.suffix(m) + "_t" + threads + "r" + rows + "v" + vector + "u" + unroll;
        LaunchBuilder lb = ctx.launch(name, "y[s, n] = sum_k x[s, k] * w[n, k]" + (m.bias() != null ? " + bias[n]" : "")
                + (m.residual() != null ? " + r[s, n]" : "") + (m.hasPrologue() ? ", x = prologue output in scratch" : "") + ", w " + w.type());
        lb.block(threads * rows).grid(c((n + rows - 1) / rows), lb.rows(m.x()))
                .knob("threads", threads).knob("rows", rows).knob("vector", vector).knob("unroll", unroll);
        MatmulPrologue.Operands ops = MatmulPrologue.bind(lb, m, ctx);
        Buffer x = ops.x(), data = ops.w(), scales = ops.scales(), bias = ops.bias(), res = ops.residual();
        // with a silu·mul epilogue the whole y goes to scratch and a second kernel pairs it up
        Buffer y = m.siluMulPairs() ? lb.scratch("y", MatmulPrologue.EPILOGUE_SCRATCH, KType.F32, MatmulPrologue.maxRows(m, ctx) * n) : lb.output("y", out);
        var red = threads > warp ? lb.shared("red", KType.F32, threads * rows / warp) : null;

        K.Body b = lb.body;
        Expr.Var lane = b.let("lane", mod(tid(0), c(threads)));
        Expr.Var row = b.let("row", add(mul(bid(0), c(rows)), div(tid(0), c(threads))));
        Expr.Var rowc = b.let("rowc", min(row, c(n - 1))); // loads stay in bounds; results of rows >= n are dropped
        Expr.Var xBase = b.let("x_base", mul(bid(1), c(k)));
        Expr.Var acc = b.let("acc", f(0));
        KType vt = vector == 1 ? KType.U32 : new KType(KType.Scalar.U32, vector);
        Expr.Var c0 = var("c0", KType.I32);
        b.forRange(c0, lane, c(chunks), c(threads * unroll), 1, body -> {
            Batch batch = loads(body, c0, threads, unroll, chunks, data, rowc, vt,
                    quant ? cIdx -> loadF32(scales, div(add(mul(rowc, c(k)), mul(cIdx, c(chunkValues))), c(qs.groupSize()))) : null);
            List<Expr.Var> ws = batch.words(), ss = batch.scales();
            List<Expr> valid = batch.valid();
            for (int u = 0; u < unroll; u++) {
                int uu = u;
                Expr.Var wv = ws.get(u);
                body.ifThen(valid.get(u), cb -> {
                    Expr.Var col = cb.let(cb.fresh("col"), add(xBase, mul(add(c0, c(uu * threads)), c(chunkValues))));
                    Expr.Var part = cb.let(cb.fresh("part"), f(0));
                    List<Expr> xs = xValues(cb, x, col, chunkValues);
                    for (int v = 0; v < vector; v++) {
                        Expr word = vector == 1 ? wv : lane(wv, v);
                        for (int j = 0; j < e; j++) cb.assign(part, fma(unpack(w, word, j), xs.get(v * e + j), part));
                    }
                    cb.assign(acc, quant ? fma(part, ss.get(uu), acc) : add(acc, part));
                });
            }
        });
        reduceAndStore(b, acc, lane, row, threads, warp, red, n, y, bias, res);
        return lb.build();
    }

    /**
     * The end of a GEMV whose {@code threads} lanes a row each hold a partial sum {@code acc}: summed
     * by shuffles (and through {@code red} in shared memory when a row spans subgroups), then lane 0
     * of each row below {@code n} stores {@code acc (+ bias[row]) (+ residual)} to row s = block y of {@code y}.
     */
    static void reduceAndStore(K.Body b, Expr.Var acc, Expr.Var lane, Expr.Var row, int threads, int warp, Shared red, int n, Buffer y, Buffer bias, Buffer res) {
        if (threads <= warp) {
            Reductions.warpReduce(b, acc, threads, false);
        } else {
            Reductions.warpReduce(b, acc, warp, false);
            int wpr = threads / warp;
            b.ifThen(eq(mod(tid(0), c(warp)), c(0)), x1 -> x1.sstore(red, div(tid(0), c(warp)), acc));
            b.barrier();
            b.ifThen(eq(lane, c(0)), x1 -> {
                Expr.Var first = x1.let("first", mul(div(tid(0), c(threads)), c(wpr)));
                x1.assign(acc, sload(red, first));
                for (int i = 1; i < wpr; i++) x1.assign(acc, add(acc, sload(red, add(first, c(i)))));
            });
        }
        b.ifThen(land(eq(lane, c(0)), lt(row, c(n))), x1 -> {
            Expr.Var at = x1.let("at", add(mul(bid(1), c(n)), row));
            Expr v = bias == null ? acc : add(acc, load(bias, row));
            x1.storeF(y, at, res == null ? v : add(v, load(res, at)));
        });
    }

    /** One loop step's weight loads: the words of chunks {@code c0 + u · threads}, their group scales, and whether each chunk is in the row. */
    record Batch(List<Expr.Var> words, List<Expr.Var> scales, List<Expr> valid) {}

    /**
     * Issues every load of a loop step before any is used ({@code unroll} chunks of row {@code rowc},
     * a chunk past the row's end reading chunk 0), and each chunk's scale by {@code scale} of its
     * chunk index where the weights are quantized (null: none).
     */
    static Batch loads(K.Body body, Expr.Var c0, int threads, int unroll, int chunks, Buffer data, Expr.Var rowc, KType vt,
                       java.util.function.Function<Expr, Expr> scale) {
        List<Expr.Var> ws = new ArrayList<>(), ss = new ArrayList<>();
        List<Expr> valid = new ArrayList<>();
        for (int u = 0; u < unroll; u++) {
            Expr cu = add(c0, c(u * threads));
            Expr ok = lt(cu, c(chunks));
            valid.add(ok);
            Expr cIdx = select(ok, cu, c(0));
            ws.add(body.let(body.fresh("wv"), load(data, add(mul(rowc, c(chunks)), cIdx), vt)));
            if (scale != null) ss.add(body.let(body.fresh("sc"), scale.apply(cIdx)));
        }
        return new Batch(ws, ss, valid);
    }

    /**
     * The {@code count} activations starting at {@code col} as f32, 4 a load where aligned ({@code col} then a multiple
     * of 4): a float4 of an f32 buffer, or 8 bytes of an f16 one.
     */
    static List<Expr> xValues(K.Body b, Buffer x, Expr col, int count) {
        List<Expr> xs = new ArrayList<>();
        boolean half = x.element().equals(KType.F16);
        if (count % 4 == 0) {
            for (int i = 0; i < count; i += 4) {
                Expr.Var v = b.let(b.fresh("xv"), load(x, div(add(col, c(i)), c(4)), half ? KType.U32X2 : KType.F32X4));
                for (int l = 0; l < 4; l++) xs.add(half ? cast(KType.F32, halfOf(lane(v, l / 2), l % 2 == 1)) : lane(v, l));
            }
        } else {
            for (int i = 0; i < count; i++) xs.add(b.let(b.fresh("xs"), loadF32(x, add(col, c(i)))));
        }
        return xs;
    }

    /** Value {@code j} of a u32 word of weights, as f32, zero point subtracted, scale not applied. */
    static Expr unpack(Value w, Expr word, int j) {
        return switch (w.type().dtype()) {
            case Q4 -> sub(bitcast(KType.F32, or(and(shr(word, u(4L * j)), u(15)), u(0x4B000000L))), f(8388608.0 + w.type().quant().zero()));
            // signed byte b -> b + 128 in [0, 255] by flipping its top bit, then the same mantissa trick
            case Q8 -> sub(bitcast(KType.F32, or(K.xor(and(shr(word, u(8L * j)), u(255)), u(128)), u(0x4B000000L))), f(8388608.0 + 128 + w.type().quant().zero()));
            case F16 -> cast(KType.F32, halfOf(word, j == 1));
            case F32 -> bitcast(KType.F32, word);
            default -> throw new IllegalArgumentException("no GEMV for " + w.type());
        };
    }
}
