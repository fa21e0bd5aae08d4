package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Shared;
import jmlc.compiler.kernel.Capabilities;
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
 * Matmul over several tokens (prefill) on tensor cores: {@code y[M, N] = x[M, K] · w[N, K]^T} with
 * {@code mma.sync m16n8k16} (f16 operands, f32 accumulation).
 *
 * <p>A block computes a {@code bm × bn} tile of y with 4 warps in a 2×2 grid. Per step of 32 along
 * K (one quantization group) the block converts the x tile to f16 and dequantizes the w tile to
 * f16 into shared memory (rows padded by 4 words, so fragment loads hit 32 distinct banks), then
 * each warp issues its {@code (bm/2/16) × (bn/2/8)} mma per 16 of K. The raw tiles of the next step
 * are loaded into registers before this step's mma ({@link GemmTiles}), hiding their latency. Knobs:
 * {@code bm}, {@code bn}.
 * Operands are rounded to f16, so results differ from f32 by about 1e-3 relative; f32 weights (q0f32,
 * whose name promises f32 arithmetic) are left to {@link GemvRule}.
 *
 * <p>Split-K for short prompts: with one row tile ({@code seq ≤ bm}) the grid has only
 * {@code ceil(n / bn)} blocks (32 for a 4096-row matrix on a 132-SM H100), each walking all of K one
 * 32-wide step at a time. Then {@code split_k} blocks share each tile's K range (grid z), write f32
 * partial tiles to scratch, and a second kernel sums them and applies the epilogue (bias, residual,
 * silu·mul pairs). Longer prompts launch one split and keep the fused epilogue; the reduce kernel's
 * blocks return at once.
 */
public final class GemmRule implements ScheduleRule {
    static final int BK = 32, WARPS = 4, PAD = 4;
    /** Scratch holding the split-K partial tiles, {@code [split_k, seq, n]} f32. */
    static final String SPLIT_SCRATCH = "gemm_split_partials";

    @Override
    public String name() {
        return "gemm";
    }

    /** Bytes of shared memory the two padded operand tiles take. */
    static int sharedBytes(int bm, int bn) {
        return (bm + bn) * (BK / 2 + PAD) * 4;
    }

    /**
     * The knobs for weight {@code w}: the block's tile of y ({@code bm × bn}, 4 warps in 2×2) and
     * the split of K for one-tile prompts (0: the fewest that give four blocks per multiprocessor).
     */
    static KnobSpace space(ScheduleContext ctx, Value w) {
        int k = (int) w.type().shape().dim(1).size(), maxShared = ctx.caps().maxSharedBytes();
        return new KnobSpace(ctx.signature("gemm", GemvRule.shape(w)))
                .add(Knob.oneOf("bm", 64, "rows of y a block computes", 32, 64, 96, 128))
                .add(Knob.range("bn", 128, 16, 512, "columns of y a block computes (a multiple of 16)", 64, 128, 256))
                .add(Knob.range("split_k", 0, 0, k / BK, "blocks sharing a tile's K for prompts of one row tile (0: automatic)", 0, 1, 2, 4, 8, 16))
                .require("bn a multiple of 16", v -> v.get("bn") % 16 == 0)
                .require("at most 32 mma tiles of accumulators a warp: (bm/32) x (bn/16) <= 32", v -> v.get("bn") / 2 / 8 * (v.get("bm") / 2 / 16) <= 32)
                .require("the operand tiles fit " + maxShared + " bytes of shared memory", v -> sharedBytes(v.get("bm"), v.get("bn")) <= maxShared);
    }

    @Override
    public Optional<List<KernelCall>> apply(Node node, ScheduleContext ctx) {
        MatmulParts m = MatmulParts.of(node);
        if (m == null || ctx.decode() || ctx.caps().matrix() != Capabilities.MatrixUnit.MMA_M16N8K16) return Optional.empty();
        Value w = m.w();
        // f32 weights (q0f32) promise f32 arithmetic end to end; f16 operands would round them to 11 bits
        // (logits 5e-4 to 8e-4 off, relative): GemvRule, next in order, computes them in f32
        if (w.type().dtype() == jmlc.compiler.ir.DType.F32) return Optional.empty();
        boolean q = w.type().dtype().isQuantized();
        if (w.kind() != Value.Kind.PARAM || !m.x().type().shape().dim(0).equals(jmlc.compiler.ir.Dim.SEQ)) return Optional.empty();
        int k = (int) w.type().shape().dim(1).size(), n = (int) w.type().shape().dim(0).size();
        int e = GemvRule.perWord(w);
        if (k % BK != 0 || (q && w.type().quant().groupSize() != BK)) return Optional.empty();
        KnobSpace space = space(ctx, w);
        Map<String, Integer> v = ctx.choose(space);
        int bm = v.get("bm"), bn = v.get("bn");
        int splits = v.get("split_k") != 0 ? v.get("split_k") : defaultSplits(n, k, bn, ctx);
        List<KernelCall> calls = new ArrayList<>();
        if (m.hasPrologue()) calls.add(MatmulPrologue.kernel(m, ctx));
        calls.add(kernel(m, node.output(), ctx, space.signature(), n, k, e, bm, bn, splits));
        if (splits > 1) calls.add(reduceKernel(m, node.output(), ctx, n, bm, splits));
        return Optional.of(calls);
    }

    /**
     * Splits of K for a one-tile prompt: the fewest (a power of two, at most 16) that give the grid
     * four blocks per SM, each split keeping at least one 32-wide step; 1 where the tiles alone do.
     */
    static int defaultSplits(int n, int k, int bn, ScheduleContext ctx) {
        int tiles = (n + bn - 1) / bn, want = 4 * ctx.caps().multiprocessors(), s = 1;
        while (tiles * s < want && s < 16 && k / BK >= 2 * s) s *= 2;
        return s;
    }

    /**
     * A grid size that is {@code whenShort} for a prompt of one row tile ({@code seq ≤ bm}) and 1
     * for a longer one, in grid arithmetic (which has no conditional): split-K runs only then.
     */
    static Expr oneTileOnly(Expr seq, int bm, Expr whenShort) {
        Expr longPrompt = min(c(1), div(sub(seq, c(1)), c(bm)));
        Expr lessOne = whenShort instanceof Expr.Const k ? c((int) k.value() - 1) : sub(whenShort, c(1));
        return sub(whenShort, mul(lessOne, longPrompt));
    }

    private KernelCall kernel(MatmulParts m, Value out, ScheduleContext ctx, KernelSignature sig, int n, int k, int e, int bm, int bn, int splits) {
        Value w = m.w();
        boolean quant = w.type().dtype().isQuantized();
        QuantScheme qs = quant ? w.type().quant() : null;
        int threads = WARPS * 32;
        int wm = bm / 2, wn = bn / 2;           // warp tile
        int mt = wm / 16, nt = wn / 8;           // mma tiles per warp
        int stride = BK / 2 + PAD;               // u32 words per shared row
        LaunchBuilder lb = ctx.launch(sig.key() + MatmulPrologue.suffix(m) + "_m" + bm + "n" + bn + (splits > 1 ? "k" + splits : ""),
                "y[m, n] = sum_k x[m, k] * w[n, k] on tensor cores (mma m16n8k16 f16/f32), w " + w.type()
                        + (splits > 1 ? "; K in " + splits + " splits for prompts of at most " + bm + " tokens" : ""));
        Expr mTotal = lb.seq();
        lb.block(threads).grid(c((n + bn - 1) / bn), LaunchBuilder.ceilDiv(mTotal, bm), oneTileOnly(mTotal, bm, c(splits))).knob("bm", bm).knob("bn", bn);
        if (splits > 1) lb.knob("split_k", splits);
        MatmulPrologue.Operands ops = MatmulPrologue.bind(lb, m, ctx);
        Buffer x = ops.x(), data = ops.w(), scales = ops.scales(), bias = ops.bias(), res = ops.residual();
        Buffer y = lb.output("y", out);
        Buffer partials = splits > 1 ? lb.scratch("partials", SPLIT_SCRATCH, KType.F32, (long) splits * bm * n) : null;
        Shared xs = lb.shared("xs", KType.U32, bm * stride);
        Shared ws = lb.shared("ws", KType.U32, bn * stride);

        K.Body b = lb.body;
        Expr.Var n0 = b.let("n0", mul(bid(0), c(bn)));
        Expr.Var m0 = b.let("m0", mul(bid(1), c(bm)));
        Expr.Var warp = b.let("warp", div(tid(0), c(32)));
        Expr.Var lane = b.let("lane", mod(tid(0), c(32)));
        boolean ldm = ctx.caps().ldmatrix();
        Expr.Var g = b.let("g", div(lane, c(4)));
        Expr.Var t = b.let("t", mod(lane, c(4)));
        Expr.Var wRow = b.let("wm0", mul(div(warp, c(2)), c(wm)));
        Expr.Var wCol = b.let("wn0", mul(mod(warp, c(2)), c(wn)));
        Expr.Var[][][] acc = new Expr.Var[mt][nt][4];
        for (int i = 0; i < mt; i++)
            for (int j = 0; j < nt; j++)
                for (int r = 0; r < 4; r++) acc[i][j][r] = b.let("acc" + i + "_" + j + "_" + r, f(0));

        // this block's share of K: whole 32-wide steps, split z of gridDim.z
        Expr.Var kPer = b.let("k_per", mul(div(add(c(k / BK), sub(gdim(2), c(1))), gdim(2)), c(BK)));
        Expr.Var kLo = b.let("k_lo", mul(bid(2), kPer));
        Expr.Var kHi = b.let("k_hi", min(c(k), add(kLo, kPer)));
        // the raw tiles of a K step live in registers: loaded one step ahead (their latency hides behind
        // the mma of the step before), converted to f16 pairs and stored to shared at the top of their step
        GemmTiles tiles = new GemmTiles(lb, x, data, scales, w, qs, quant, k, n, e, bm, bn, threads, m0, n0, xs, ws, stride);
        tiles.fetch(b, min(kLo, c(k - BK)), true);
        Expr.Var k0 = var("k0", KType.I32);
        b.forRange(k0, kLo, kHi, c(BK), 1, s -> {
            tiles.toShared(s);
            s.barrier();
            tiles.fetch(s, min(add(k0, c(BK)), sub(kHi, c(BK))), false); // the next step's (this one's again at the end)
            for (int ks = 0; ks < BK / 16; ks++) {
                int kw = ks * 8; // word offset of this k16 within the row
                List<List<Expr.Var>> aFrag = new ArrayList<>();
                for (int i = 0; i < mt; i++) {
                    if (ldm) { // A fragments with ldmatrix.x4: lane l addresses row l%16 of the warp's 16-row slice, k half l/16
                        List<Expr.Var> a = fragment(s, "a");
                        s.ldmatrix(a, xs, add(mul(add(add(wRow, c(i * 16)), mod(lane, c(16))), c(stride)), add(c(kw), mul(div(lane, c(16)), c(4)))));
                        aFrag.add(a);
                    } else { // plain shared loads in the fragment layout: (g, 2t), (g+8, 2t), (g, 2t+8), (g+8, 2t+8)
                        Expr.Var r0 = s.let(s.fresh("ar"), add(add(wRow, c(i * 16)), g));
                        List<Expr.Var> a = new ArrayList<>();
                        for (int[] rk : new int[][] {{0, 0}, {8, 0}, {0, 4}, {8, 4}})
                            a.add(s.let(s.fresh("a"), sload(xs, add(mul(add(r0, c(rk[0])), c(stride)), add(c(kw + rk[1]), t)))));
                        aFrag.add(a);
                    }
                }
                // B fragments of two n-tiles per ldmatrix.x4: lane l addresses row l%8 of tile j + l/16, k half (l/8)%2
                for (int j = 0; ldm && j + 1 < nt; j += 2) {
                    List<Expr.Var> bb = fragment(s, "b");
                    s.ldmatrix(bb, ws, add(mul(add(add(wCol, c(j * 8)), add(mul(div(lane, c(16)), c(8)), mod(lane, c(8)))), c(stride)),
                            add(c(kw), mul(mod(div(lane, c(8)), c(2)), c(4)))));
                    for (int i = 0; i < mt; i++) {
                        s.mma(List.of(acc[i][j]), List.copyOf(aFrag.get(i)), List.of(bb.get(0), bb.get(1)));
                        s.mma(List.of(acc[i][j + 1]), List.copyOf(aFrag.get(i)), List.of(bb.get(2), bb.get(3)));
                    }
                }
                // without ldmatrix every n-tile, with it an odd last one: its two B registers by plain shared loads
                for (int j = ldm ? nt - nt % 2 : 0; j < nt; j++) {
                    Expr.Var colB = s.let(s.fresh("cb"), add(add(wCol, c(j * 8)), g));
                    Expr.Var b0 = s.let(s.fresh("b"), sload(ws, add(mul(colB, c(stride)), add(c(kw), t))));
                    Expr.Var b1 = s.let(s.fresh("b"), sload(ws, add(mul(colB, c(stride)), add(c(kw + 4), t))));
                    for (int i = 0; i < mt; i++) s.mma(List.of(acc[i][j]), List.copyOf(aFrag.get(i)), List.of(b0, b1));
                }
            }
            s.barrier();
        });
        // epilogue: c0,c1 at (g, 2t..2t+1), c2,c3 at (g+8, 2t..2t+1) of each 16×8 tile
        if (splits > 1) { // several splits: partial tiles to scratch [split, seq, n] for the reduce kernel
            b.ifThen(gt(gdim(2), c(1)), st -> {
                eachAccumulator(st, acc, m0, n0, wRow, wCol, g, t, lb.seq(), n,
                        (x1, row, col, accv) -> x1.store(partials, add(mul(add(mul(bid(2), lb.seq()), row), c(n)), col), accv));
                st.ret();
            });
        }
        if (m.siluMulPairs()) { // columns 2t and 2t+1 are a (gate, up) pair, in this thread's registers
            int half = n / 2;
            for (int i = 0; i < mt; i++)
                for (int j = 0; j < nt; j++)
                    for (int r = 0; r < 4; r += 2) {
                        Expr row = add(add(m0, add(wRow, c(i * 16 + (r >= 2 ? 8 : 0)))), g);
                        Expr col = add(add(n0, add(wCol, c(j * 8))), mul(t, c(2)));
                        Expr.Var gate = acc[i][j][r], upv = acc[i][j][r + 1];
                        b.ifThen(land(lt(row, lb.seq()), lt(col, c(n))), st -> {
                            Expr gv = bias == null ? gate : add(gate, load(bias, col));
                            Expr uv = bias == null ? upv : add(upv, load(bias, add(col, c(1))));
                            st.storeF(y, add(mul(row, c(half)), div(col, c(2))), mul(ElementwiseRule.silu(gv), uv));
                        });
                    }
            return lb.build();
        }
        eachAccumulator(b, acc, m0, n0, wRow, wCol, g, t, lb.seq(), n, (st, row, col, accv) -> {
            Expr.Var at = st.let(st.fresh("at"), add(mul(row, c(n)), col));
            Expr v = bias == null ? accv : add(accv, load(bias, col));
            st.storeF(y, at, res == null ? v : add(v, load(res, at)));
        });
        return lb.build();
    }

    /** Four fresh u32 registers for an ldmatrix.x4 to fill. */
    private static List<Expr.Var> fragment(K.Body s, String prefix) {
        List<Expr.Var> r = new ArrayList<>();
        for (int i = 0; i < 4; i++) r.add(s.let(s.fresh(prefix), u(0)));
        return r;
    }

    /** What to do with one accumulator at its (row, col) of y. */
    private interface AccumulatorUse {
        void at(K.Body body, Expr row, Expr col, Expr.Var acc);
    }

    /**
     * Visits this thread's accumulators where they lie inside y ({@code row < seq}, {@code col < n}):
     * c0,c1 at (g, 2t..2t+1) and c2,c3 at (g+8, 2t..2t+1) of each 16×8 tile of the warp's tile.
     */
    private static void eachAccumulator(K.Body b, Expr.Var[][][] acc, Expr m0, Expr n0, Expr wRow, Expr wCol, Expr g, Expr t, Expr seq, int n, AccumulatorUse use) {
        for (int i = 0; i < acc.length; i++)
            for (int j = 0; j < acc[i].length; j++)
                for (int r = 0; r < 4; r++) {
                    Expr row = add(add(m0, add(wRow, c(i * 16 + (r >= 2 ? 8 : 0)))), g);
                    Expr col = add(add(n0, add(wCol, c(j * 8 + (r & 1)))), mul(t, c(2)));
                    Expr.Var accv = acc[i][j][r];
                    b.ifThen(land(lt(row, seq), lt(col, c(n))), st -> use.at(st, row, col, accv));
                }
    }

    /**
     * Sums the split partials of a one-tile prompt and applies the matmul's epilogue: one thread per
     * output element ({@code n}, or {@code n/2} silu·mul pairs). Returns at once for longer prompts,
     * whose GEMM wrote y itself.
     */
    static KernelCall reduceKernel(MatmulParts m, Value out, ScheduleContext ctx, int n, int bm, int splits) {
        boolean pairs = m.siluMulPairs();
        int cols = pairs ? n / 2 : n, threads = 256;
        LaunchBuilder lb = ctx.launch("gemm_split_reduce_" + n + "_m" + bm + "_k" + splits + (m.bias() != null ? "_bias" : "") + (m.residual() != null ? "_res" : "") + (pairs ? "_silupairs" : ""),
                "y[s, n] = epilogue(sum of the " + splits + " split-K partials) for prompts of at most " + bm + " tokens");
        Expr seq = lb.seq();
        // one block for longer prompts (it returns at once), else a block row per token
        lb.block(threads).grid(oneTileOnly(seq, bm, c((cols + threads - 1) / threads)), oneTileOnly(seq, bm, min(seq, c(bm)))).knob("split_k", splits);
        Buffer partials = lb.scratch("partials", SPLIT_SCRATCH, KType.F32, (long) splits * bm * n);
        Buffer bias = m.bias() != null ? lb.input("bias", m.bias()) : null;
        Buffer res = m.residual() != null ? lb.input("residual", m.residual()) : null;
        Buffer y = lb.output("y", out);
        K.Body b = lb.body;
        b.ifThen(gt(seq, c(bm)), x -> x.ret());
        Expr.Var row = b.let("row", bid(1));
        Expr.Var col = b.let("col", add(mul(bid(0), c(threads)), tid(0)));
        b.ifThen(lt(col, c(cols)), x -> {
            int lanes = pairs ? 2 : 1;
            Expr.Var[] sum = new Expr.Var[lanes];
            for (int l = 0; l < lanes; l++) {
                Expr.Var at = x.let("c" + l, pairs ? add(mul(col, c(2)), c(l)) : col);
                sum[l] = x.let("sum" + l, f(0));
                for (int z = 0; z < splits; z++) x.assign(sum[l], add(sum[l], load(partials, add(mul(add(mul(c(z), seq), row), c(n)), at))));
                if (bias != null) x.assign(sum[l], add(sum[l], load(bias, at)));
            }
            Expr.Var outAt = x.let("out_at", add(mul(row, c(cols)), col));
            if (pairs) x.storeF(y, outAt, mul(ElementwiseRule.silu(sum[0]), sum[1]));
            else x.storeF(y, outAt, res == null ? sum[0] : add(sum[0], load(res, outAt)));
        });
        return lb.build();
    }
}
