package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.LaunchBuilder;
import jmlc.compiler.schedule.ScheduleContext;


import static jmlc.compiler.kernel.K.*;

/**
 * A fused matmul's prologue as a kernel of its own, writing the transformed rows to scratch, for
 * the matmul schedules that read x from global memory (the f32 GEMV, the tensor-core GEMM). The
 * f16 GEMV applies prologues while staging x instead. One block per row.
 */
final class MatmulPrologue {
    private MatmulPrologue() {}

    static final String SCRATCH = "matmul_prologue_x";
    static final int THREADS = 256;

    /** Suffix naming what a matmul kernel fuses, so different fusions never share a kernel name. */
    static String suffix(MatmulParts p) {
        String pro = switch (p.prologue()) {
            case Op.Prologue.None n -> "";
            case Op.Prologue.RmsNorm r -> "_norm";
            case Op.Prologue.SiluMul s -> "_silumul";
        };
        return pro + (p.bias() != null ? "_bias" : "") + (p.residual() != null ? "_res" : "") + (p.siluMulPairs() ? "_silupairs" : "");
    }

    static final String EPILOGUE_SCRATCH = "matmul_epilogue_y";

    /** Rows a matmul's input has at most in this program (seq's bound, or the fixed count). */
    static long maxRows(MatmulParts p, ScheduleContext ctx) {
        return p.x().type().shape().dim(0).isFixed() ? p.x().type().shape().dim(0).size() : ctx.maxSeq();
    }

    /**
     * The silu·mul epilogue as a kernel of its own, for matmul schedules that write y whole:
     * {@code out[s, i] = silu(y[s, 2i]) · y[s, 2i+1]} from the matmul's y in scratch.
     */
    static KernelCall siluMulPairsKernel(MatmulParts p, jmlc.compiler.ir.Value out, ScheduleContext ctx) {
        int half = (int) (p.n() / 2);
        LaunchBuilder lb = ctx.launch("epilogue_silu_mul_pairs_" + half, "out[s, i] = silu(y[s, 2i]) * y[s, 2i+1] from the matmul's y");
        int threads = 256;
        lb.block(threads).grid(LaunchBuilder.ceilDiv(mul(lb.rows(p.x()), c(half)), threads)).knob("threads", threads);
        Buffer y = lb.scratch("y", EPILOGUE_SCRATCH, KType.F32, maxRows(p, ctx) * p.n());
        Buffer o = lb.output("out", out);
        K.Body b = lb.body;
        Expr.Var i = b.let("i", add(mul(bid(0), c(threads)), tid(0)));
        b.ifThen(lt(i, mul(lb.rows(p.x()), c(half))), x -> x.storeF(o, i, mul(ElementwiseRule.silu(load(y, mul(i, c(2)))), load(y, add(mul(i, c(2)), c(1))))));
        return lb.build();
    }

    /** The buffers every matmul kernel binds, in this order: x (the prologue's scratch if it has one), w, scales (quantized w), bias, residual. */
    record Operands(Buffer x, Buffer w, Buffer scales, Buffer bias, Buffer residual) {}

    static Operands bind(LaunchBuilder lb, MatmulParts m, ScheduleContext ctx) {
        Value w = m.w();
        Buffer x = m.hasPrologue() ? lb.scratch("x", SCRATCH, KType.F32, scratchElements(m, ctx)) : lb.input("x", m.x());
        Buffer data = lb.input("w", w);
        Buffer scales = w.type().dtype().isQuantized() ? lb.weightScales("scales", w) : null;
        Buffer bias = m.bias() != null ? lb.input("bias", m.bias()) : null;
        Buffer res = m.residual() != null ? lb.input("residual", m.residual()) : null;
        return new Operands(x, data, scales, bias, res);
    }

    /** Elements of scratch the transformed x needs: rows × K. */
    static long scratchElements(MatmulParts p, ScheduleContext ctx) {
        long rows = p.x().type().shape().dim(0).isFixed() ? p.x().type().shape().dim(0).size() : ctx.maxSeq();
        return rows * p.k();
    }

    /** The kernel writing {@code prologue(x)} to scratch, one block per row. */
    static KernelCall kernel(MatmulParts p, ScheduleContext ctx) {
        int k = (int) p.k();
        int warp = ctx.caps().subgroupSize();
        String kind = p.prologue() instanceof Op.Prologue.RmsNorm ? "rms_norm" : "silu_mul";
        LaunchBuilder lb = ctx.launch("prologue_" + kind + "_" + k,
                "scratch[s, :] = " + kind + "(x[s, :]) for the next matmul");
        lb.block(THREADS).grid(lb.rows(p.x())).knob("threads", THREADS);
        Buffer x = lb.input("x", p.x());
        Buffer g = p.normWeight() != null ? lb.input("g", p.normWeight()) : null;
        Buffer out = lb.scratch("out", SCRATCH, KType.F32, scratchElements(p, ctx));
        K.Body b = lb.body;
        Expr.Var i = var("i", KType.I32);
        if (p.prologue() instanceof Op.Prologue.SiluMul) {
            Expr.Var row = b.let("row", mul(bid(0), c(2 * k)));
            b.forRange(i, tid(0), c(k), c(THREADS), 0, s -> s.store(out, add(mul(bid(0), c(k)), i),
                    mul(ElementwiseRule.silu(load(x, add(row, i))), load(x, add(row, add(i, c(k)))))));
            return lb.build();
        }
        double eps = ((Op.Prologue.RmsNorm) p.prologue()).eps();
        Expr.Var row = b.let("row", mul(bid(0), c(k)));
        Expr.Var ss = b.let("ss", f(0));
        b.forRange(i, tid(0), c(k), c(THREADS), 0, s -> {
            Expr.Var v = s.let("v", load(x, add(row, i)));
            s.assign(ss, fma(v, v, ss));
        });
        Expr.Var total = Reductions.blockReduce(b, ss, THREADS, warp, Reductions.scratch(lb, "red", THREADS, warp), false);
        Expr.Var inv = b.let("inv", rsqrt(add(div(total, f(k)), f(eps))));
        Expr.Var j = var("j", KType.I32);
        b.forRange(j, tid(0), c(k), c(THREADS), 0, s -> s.store(out, add(row, j), mul(mul(load(x, add(row, j)), inv), load(g, j))));
        return lb.build();
    }
}
