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
 * The matrix-vector product for 8-bit weights by integer dot products, where the target has them
 * ({@code Capabilities.dot4}: CUDA's {@code dp4a}, Vulkan's {@code shaderIntegerDotProduct}): as
 * llama.cpp's MMVQ does for its 8-bit blocks, each block first quantizes its row of x to signed
 * bytes, a scale a quantization group ({@code s = max|x| / 127}, {@code q = round(x / s)}), into
 * shared memory; then every four weights of a row cost one {@code dot4} of a weight word and an x
 * word, and a group's integer sum is scaled once by both scales. On a GPU whose f32 GEMV is bound by
 * its arithmetic (the four byte-to-float unpackings and FMAs a word it replaces) that is the gain;
 * the price is x rounded to 8 bits, about 0.5% relative error a product row (its tolerance,
 * {@code Precision}). The knob {@code dot4} (0: {@link GemvRule}'s f32 GEMV instead) decides.
 *
 * <p>Lanes, rows and loads in flight as in {@link GemvRule}: {@code threads} lanes read a row,
 * {@code vector} u32 words at a time, {@code unroll} loads issued before any is used.
 */
public final class GemvDot4Rule implements ScheduleRule {
    static final int THREADS = 32, ROWS = 4, UNROLL = 4;

    @Override
    public String name() {
        return "gemv_dot4";
    }

    /** Whether the rule may take weight {@code w} on this target: 8-bit, groups of whole words, the quantized row fitting shared memory. */
    static boolean fits(ScheduleContext ctx, Value w) {
        if (!ctx.caps().dot4() || w.kind() != Value.Kind.PARAM || w.type().dtype() != DType.Q8) return false;
        QuantScheme qs = w.type().quant();
        int k = (int) w.type().shape().dim(1).size();
        return qs.groupSize() % 16 == 0 && k % qs.groupSize() == 0 && sharedBytes(k, qs.groupSize()) <= ctx.caps().maxSharedBytes();
    }

    /** x of one row as bytes, and a scale a group. */
    static int sharedBytes(int k, int groupSize) {
        return k + 4 * (k / groupSize);
    }

    static KnobSpace space(ScheduleContext ctx, Value w) {
        int maxThreads = ctx.caps().maxThreadsPerBlock(), warp = ctx.caps().subgroupSize();
        int groupWords = w.type().quant().groupSize() / 4;
        return new KnobSpace(ctx.signature("gemv_dot4", GemvRule.shape(w)))
                .add(Knob.oneOf("dot4", 1, "1: 4 weights a dot4 against x quantized to bytes; 0: the f32 GEMV (x exact)", 0, 1))
                .add(Knob.oneOf("threads", THREADS, "threads reading one row", 8, 16, 32, 64, 128).tryOnly(16, 32, 64))
                .add(Knob.oneOf("rows", ROWS, "rows per block (they share the block's quantized x)", 1, 2, 4, 8, 16).tryOnly(2, 4, 8))
                .add(Knob.oneOf("vector", 4, "u32 words (4 weights each) a lane loads at once", 1, 2, 4))
                .add(Knob.range("unroll", UNROLL, 1, 16, "loads issued before any is used", 2, 4, 8))
                .require("vector words within one quantization group of " + groupWords + " words", v -> groupWords % v.get("vector") == 0)
                .require("threads x rows <= " + maxThreads + " threads a block", v -> v.get("threads") * v.get("rows") <= maxThreads)
                .require("threads within one subgroup, or whole subgroups of " + warp, v -> v.get("threads") <= warp || v.get("threads") % warp == 0);
    }

    @Override
    public Optional<List<KernelCall>> apply(Node node, ScheduleContext ctx) {
        MatmulParts m = MatmulParts.of(node);
        if (m == null || !fits(ctx, m.w())) return Optional.empty();
        KnobSpace space = space(ctx, m.w());
        Map<String, Integer> v = ctx.choose(space);
        if (v.get("dot4") == 0) return Optional.empty(); // GemvRule takes it
        List<KernelCall> calls = new ArrayList<>();
        if (m.hasPrologue()) calls.add(MatmulPrologue.kernel(m, ctx));
        calls.add(kernel(m, node.output(), ctx, space.signature().key(), v.get("threads"), v.get("rows"), v.get("vector"), v.get("unroll")));
        if (m.siluMulPairs()) calls.add(MatmulPrologue.siluMulPairsKernel(m, node.output(), ctx));
        return Optional.of(calls);
    }

    /** {@code v} (a value times 127 over its group's largest magnitude) rounded half away from zero to an i32. */
    static Expr roundHalfAway(Expr.Var v) {
        return cast(KType.I32, add(v, select(ge(v, f(0)), f(0.5), f(-0.5))));
    }

    /** The low byte of i32 {@code q} as byte {@code l} of a u32 word (to be or-ed with the word's others). */
    static Expr byteAt(Expr q, int l) {
        return shl(and(bitcast(KType.U32, q), u(255)), u(8L * l));
    }

    private KernelCall kernel(MatmulParts m, Value out, ScheduleContext ctx, String sig, int threads, int rows, int vector, int unroll) {
        Value w = m.w();
        int n = (int) m.n(), k = (int) m.k(), gs = w.type().quant().groupSize(), groups = k / gs, words = k / 4;
        int warp = ctx.caps().subgroupSize(), block = threads * rows;
        int chunkWords = vector, chunks = words / chunkWords;
        LaunchBuilder lb = ctx.launch(sig + MatmulPrologue.suffix(m) + "_t" + threads + "r" + rows + "v" + vector + "u" + unroll,
                "y[s, n] = sum_k x[s, k] * w[n, k]" + (m.bias() != null ? " + bias[n]" : "") + (m.residual() != null ? " + r[s, n]" : "")
                        + " by dot4 of the 8-bit weights and x quantized to bytes (a scale per " + gs + "), w " + w.type());
        lb.block(block).grid(c((n + rows - 1) / rows), lb.rows(m.x()))
                .knob("dot4", 1).knob("threads", threads).knob("rows", rows).knob("vector", vector).knob("unroll", unroll);
        MatmulPrologue.Operands ops = MatmulPrologue.bind(lb, m, ctx);
        Buffer x = ops.x(), data = ops.w(), scales = ops.scales(), bias = ops.bias(), res = ops.residual();
        Buffer y = m.siluMulPairs() ? lb.scratch("y", MatmulPrologue.EPILOGUE_SCRATCH, KType.F32, MatmulPrologue.maxRows(m, ctx) * n) : lb.output("y", out);
        Shared xq = lb.shared("xq", KType.U32, words), xs = lb.shared("x_scale", KType.F32, groups);
        var red = threads > warp ? lb.shared("red", KType.F32, block / warp) : null;

        K.Body b = lb.body;
        // x's row s, a group a thread: the group's largest magnitude sets its scale; each value rounded
        // to the nearest of -127..127 (half away from zero), four to a word
        Expr.Var xBase = b.let("x_base", mul(bid(1), c(k)));
        Expr.Var g = var("g", KType.I32);
        b.forRange(g, tid(0), c(groups), c(block), 0, s -> {
            List<Expr> vals = GemvRule.xValues(s, x, add(xBase, mul(g, c(gs))), gs);
            Expr.Var amax = s.let("amax", f(0));
            for (Expr val : vals) s.assign(amax, max(amax, new Expr.Unary(Expr.UnOp.ABS, val)));
            Expr.Var inv = s.let("inv", select(gt(amax, f(0)), div(f(127), amax), f(0)));
            s.sstore(xs, g, div(amax, f(127)));
            for (int wd = 0; wd < gs / 4; wd++) {
                Expr word = null;
                for (int l = 0; l < 4; l++) {
                    Expr.Var sv = s.let(s.fresh("xs"), mul(vals.get(4 * wd + l), inv));
                    Expr bits = byteAt(roundHalfAway(sv), l);
                    word = word == null ? bits : or(word, bits);
                }
                s.sstore(xq, add(mul(g, c(gs / 4)), c(wd)), word);
            }
        });
        b.barrier();

        Expr.Var lane = b.let("lane", mod(tid(0), c(threads)));
        Expr.Var row = b.let("row", add(mul(bid(0), c(rows)), div(tid(0), c(threads))));
        Expr.Var rowc = b.let("rowc", min(row, c(n - 1))); // loads stay in bounds; results of rows >= n are dropped
        Expr.Var acc = b.let("acc", f(0));
        KType vt = vector == 1 ? KType.U32 : new KType(KType.Scalar.U32, vector);
        Expr.Var c0 = var("c0", KType.I32);
        b.forRange(c0, lane, c(chunks), c(threads * unroll), 1, body -> {
            GemvRule.Batch batch = GemvRule.loads(body, c0, threads, unroll, chunks, data, rowc, vt,
                    cIdx -> loadF32(scales, add(mul(rowc, c(groups)), div(mul(cIdx, c(4 * chunkWords)), c(gs)))));
            List<Expr.Var> ws = batch.words(), ss = batch.scales();
            List<Expr> valid = batch.valid();
            for (int u = 0; u < unroll; u++) {
                int uu = u;
                body.ifThen(valid.get(u), cb -> {
                    Expr.Var word0 = cb.let(cb.fresh("xw"), mul(add(c0, c(uu * threads)), c(chunkWords)));
                    Expr.Var isum = cb.let(cb.fresh("isum"), c(0));
                    for (int vv = 0; vv < vector; vv++) {
                        Expr wword = vector == 1 ? ws.get(uu) : lane(ws.get(uu), vv);
                        cb.assign(isum, dot4(wword, sload(xq, add(word0, c(vv))), isum));
                    }
                    Expr xScale = sload(xs, div(word0, c(gs / 4)));
                    cb.assign(acc, fma(mul(cast(KType.F32, isum), xScale), ss.get(uu), acc));
                });
            }
        });
        GemvRule.reduceAndStore(b, acc, lane, row, threads, warp, red, n, y, bias, res);
        return lb.build();
    }
}
