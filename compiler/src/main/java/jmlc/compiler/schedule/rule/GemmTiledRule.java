package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.Dim;
import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Capabilities.MatrixUnit;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.MatrixTile;
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
import java.util.function.Consumer;

import static jmlc.compiler.kernel.K.*;

/**
 * Matmul over several tokens (prefill) for GPUs without PTX's {@code mma.sync}: AMD's, and any
 * other. {@code y[M, N] = x[M, K] · w[N, K]^T} a {@code bm × bn} tile of y a block. Per step of 32
 * along K (one quantization group) the block converts its x tile to f16 pairs and dequantizes its w
 * tile into shared memory ({@link GemmTiles}, the tensor-core GEMM's tiles, loaded a step ahead),
 * then multiplies them in one of two ways, by what the target has:
 * <ul>
 * <li>a 16×16×16 matrix unit (RDNA3 WMMA at wave32, CDNA MFMA at wave64): four subgroups in 2×2,
 *     each {@code (bm/2) × (bn/2)} of y in 16×16 tiles, fragments read from shared memory in the
 *     unit's register layout ({@link MatrixUnit}); f32 accumulators;
 * <li>cooperative matrices (Vulkan's {@code VK_KHR_cooperative_matrix}, 16×16×16 at subgroup
 *     scope, in a layout the driver keeps to itself): the same four subgroups in 2×2, their
 *     operand tiles loaded from the shared tiles ({@link MatrixTile}), each 16×16 of y stored
 *     through a small shared scratch for the epilogue; shared rows padded to 20 words, since a
 *     cooperative load wants 16-byte aligned rows;
 * <li>the vector units: each thread a {@code tm × tn} tile of y (its columns in (gate, up) pairs,
 *     strided across threads), each product of two f16 pairs by {@code v_dot2_f32_f16} into f32
 *     where the target has it, else by f32 FMAs of the converted halves.
 * </ul>
 * The epilogue adds bias and residual or applies silu·mul to (gate, up) column pairs.
 *
 * <p>Short prompts: a prompt of one row tile still costs a whole tile of {@code bm} rows (this rule
 * has no split-K), so by default the rule makes the GEMM twice, one with 32 × 32 tiles that runs prompts of
 * at most 32 tokens (many blocks, as a weight-streaming kernel wants) and the {@code bm}-row one for
 * longer prompts; each returns at once (a grid of one block) for the prompts that are the other's (knob
 * {@code short_rows}). The short prompts' GEMM splits K over {@code split_k} blocks (grid z) where its
 * tiles alone leave multiprocessors idle, as the CUDA GEMM does ({@link GemmRule}): each writes its
 * partial tile and GemmRule's reduce kernel sums them and applies the epilogue. Operands are
 * rounded to f16 as in the tensor-core GEMM (about 1e-3 relative); f32 weights (q0f32) are left to
 * {@link GemvRule}, as there. Defaults are not tuned on AMD
 * hardware (none was reachable): the CUDA GEMM's 64 × 128 tile for the matrix units, 64 × 64 with
 * 4 × 4 a thread on the vector units.
 */
public final class GemmTiledRule implements ScheduleRule {
    static final int BK = GemmRule.BK, WAVES = 4;
    /** Shared rows padded to 17 words: the 16 lanes reading 16 rows hit 16 distinct banks. */
    static final int STRIDE = BK / 2 + 1;
    /**
     * Shared rows for cooperative matrices: 20 words, a multiple of 16 bytes as their loads need; 8 rows
     * of a 16-byte read start at 8 distinct groups of 4 banks (20r mod 32), so they do not conflict.
     */
    static final int COOP_STRIDE = BK / 2 + 4;

    @Override
    public String name() {
        return "gemm_tiled";
    }

    /** The operand tiles' bytes (and with cooperative matrices, each subgroup's 16×16 f32 scratch for the epilogue). */
    static int sharedBytes(int bm, int bn, MatrixUnit unit) {
        return unit.opaque() ? (bm + bn) * COOP_STRIDE * 4 + WAVES * MatrixTile.SIZE * MatrixTile.SIZE * 4 : (bm + bn) * STRIDE * 4;
    }

    /** The knobs for weight {@code w}: the block's tile of y; on the vector units also each thread's. */
    static KnobSpace space(ScheduleContext ctx, Value w, MatrixUnit unit, boolean pairs) {
        int maxShared = ctx.caps().maxSharedBytes(), maxThreads = ctx.caps().maxThreadsPerBlock(), sub = ctx.caps().subgroupSize();
        KnobSpace s = new KnobSpace(ctx.signature(unit == MatrixUnit.NONE ? "gemms" : "gemmx", GemvRule.shape(w)))
                // cooperative matrices, H200 through NVIDIA's Vulkan driver (bench/knob-compare.sh, 2026-12-04): 7B prefill-512
                // 4829 tok/s at 64 x 128, 6257 at 128 x 128, 4841 at 128 x 64, 3860 at 64 x 64
                .add(Knob.oneOf("bm", unit.opaque() ? 128 : 64, "rows of y a block computes", 32, 64, 128))
                .add(Knob.oneOf("bn", unit == MatrixUnit.NONE ? 64 : 128, "columns of y a block computes", 32, 64, 128, 256))
                .require("the operand tiles fit " + maxShared + " bytes of shared memory", v -> sharedBytes(v.get("bm"), v.get("bn"), unit) <= maxShared)
                .add(Knob.oneOf("short_rows", SHORT_ROWS, "prompts of at most this many tokens run a GEMM with tiles of this many rows (0: the bm-row GEMM runs every prompt)", 0, 16, 32, 64))
                .require("short_rows 0 or fewer than bm", v -> v.get("short_rows") == 0 || v.get("short_rows") < v.get("bm"))
                .add(Knob.range("split_k", 0, 0, (int) w.type().shape().dim(1).size() / BK,
                        "blocks sharing a tile's K in the short prompts' GEMM (0: the fewest that give four blocks a multiprocessor)", 0, 1, 2, 4, 8, 16));
        if (unit != MatrixUnit.NONE)
            return s.require("at most 16 tiles of 16×16 a subgroup: (bm/32) x (bn/32) <= 16", v -> v.get("bm") / 32 * (v.get("bn") / 32) <= 16)
                    .require("short_rows 0 or at least 32 (2x2 subgroups of 16-row tiles)", v -> v.get("short_rows") == 0 || v.get("short_rows") >= 32);
        return s.add(Knob.oneOf("tm", 4, "rows of y a thread computes", 1, 2, 4, 8))
                .add(Knob.oneOf("tn", 4, "columns of y a thread computes (in pairs)", 2, 4, 8))
                .require("tm divides bm (and short_rows) and tn divides bn (and " + SHORT_COLUMNS + ")", v -> v.get("bm") % v.get("tm") == 0
                        && v.get("short_rows") % v.get("tm") == 0 && v.get("bn") % v.get("tn") == 0 && shortColumns(v) % v.get("tn") == 0)
                .require("whole subgroups of threads, at most " + maxThreads, v -> fits(threads(v, v.get("bm"), v.get("bn")), sub, maxThreads)
                        && (v.get("short_rows") == 0 || fits(threads(v, v.get("short_rows"), shortColumns(v)), sub, maxThreads)))
                .require("at most 64 accumulators a thread", v -> v.get("tm") * v.get("tn") <= 64);
    }

    /**
     * Rows of the short prompts' GEMM tile by default, and at most its columns (see the class comment).
     * H200 through NVIDIA's Vulkan driver, 7B q4f16_1, a prompt of 2 to 32 tokens (GPU suite, 2026-12-04):
     * the prefill program 26 ms with the 128 x 128 GEMM alone, 19 ms with a 32 x 128 one for them, 18.3 with
     * 32 x 32, 14.3 to 15.0 with K split as well.
     */
    static final int SHORT_ROWS = 32, SHORT_COLUMNS = 32;

    private static int shortColumns(Map<String, Integer> v) {
        return Math.min(v.get("bn"), SHORT_COLUMNS);
    }

    private static int threads(Map<String, Integer> v, int rows, int cols) {
        return rows / v.get("tm") * (cols / v.get("tn"));
    }

    private static boolean fits(int threads, int sub, int maxThreads) {
        return threads > 0 && threads % sub == 0 && threads <= maxThreads;
    }

    @Override
    public Optional<List<KernelCall>> apply(Node node, ScheduleContext ctx) {
        MatmulParts m = MatmulParts.of(node);
        if (m == null || ctx.decode() || ctx.caps().matrix() == MatrixUnit.MMA_M16N8K16) return Optional.empty();
        Value w = m.w();
        // f32 weights (q0f32) promise f32 arithmetic end to end, as in GemmRule: GemvRule computes them in f32
        if (w.type().dtype() == jmlc.compiler.ir.DType.F32) return Optional.empty();
        boolean q = w.type().dtype().isQuantized();
        if (w.kind() != Value.Kind.PARAM || !m.x().type().shape().dim(0).equals(Dim.SEQ)) return Optional.empty();
        int k = (int) w.type().shape().dim(1).size(), n = (int) w.type().shape().dim(0).size();
        if (k % BK != 0 || (q && w.type().quant().groupSize() != BK)) return Optional.empty();
        MatrixUnit unit = ctx.caps().matrix().amd16() || ctx.caps().matrix().opaque() ? ctx.caps().matrix() : MatrixUnit.NONE;
        KnobSpace space = space(ctx, w, unit, m.siluMulPairs());
        Map<String, Integer> v = ctx.choose(space);
        List<KernelCall> calls = new ArrayList<>();
        if (m.hasPrologue()) calls.add(MatmulPrologue.kernel(m, ctx));
        int shortRows = v.get("short_rows");
        if (shortRows > 0) {
            int splits = v.get("split_k") != 0 ? v.get("split_k") : GemmRule.defaultSplits(n, k, shortColumns(v), ctx);
            calls.add(kernel(m, node.output(), ctx, space.signature(), n, k, unit, v, shortRows, shortRows, true, splits));
            if (splits > 1) calls.add(GemmRule.reduceKernel(m, node.output(), ctx, n, shortRows, splits));
        }
        calls.add(kernel(m, node.output(), ctx, space.signature(), n, k, unit, v, v.get("bm"), shortRows, false, 1));
        return Optional.of(calls);
    }

    /** A grid size that is 1 for a prompt of at most {@code rows} tokens and {@code whenLong} for a longer one (grid arithmetic has no conditional). */
    static Expr longOnly(Expr seq, int rows, Expr whenLong) {
        return add(c(1), mul(sub(whenLong, c(1)), min(c(1), div(sub(seq, c(1)), c(rows)))));
    }

    /** Where a thread's accumulator lies in y, and what it holds. */
    private record Acc(Expr row, Expr col, Expr.Var value) {}

    /** The K a block takes: {@code [lo, hi)} in 32-wide steps, {@code last} the start of its last step. */
    private record KRange(Expr lo, Expr hi, Expr last) {}

    /**
     * The GEMM with tiles of {@code bm} rows; where {@code shortRows} is not 0, only for prompts of at
     * most that many tokens ({@code isShort}) or only for longer ones, returning at once for the others.
     */
    private KernelCall kernel(MatmulParts m, Value out, ScheduleContext ctx, KernelSignature sig, int n, int k, MatrixUnit unit, Map<String, Integer> v,
                              int bm, int shortRows, boolean isShort, int splits) {
        Value w = m.w();
        boolean quant = w.type().dtype().isQuantized();
        QuantScheme qs = quant ? w.type().quant() : null;
        int bn = isShort ? shortColumns(v) : v.get("bn");
        boolean simt = unit == MatrixUnit.NONE, dot2 = simt && ctx.caps().dot2();
        int tm = simt ? v.get("tm") : 0, tn = simt ? v.get("tn") : 0;
        boolean coop = unit.opaque();
        int sub = ctx.caps().subgroupSize(), stride = coop ? COOP_STRIDE : STRIDE;
        int threads = simt ? bm / tm * (bn / tn) : WAVES * (coop ? sub : unit.lanes);
        String how = simt ? "_t" + tm + "x" + tn + (dot2 ? "_dot2" : "_f32") : "_" + unit.name().substring(0, 4).toLowerCase();
        String part = shortRows == 0 ? "" : (isShort ? "_upto" : "_over") + shortRows + (splits > 1 ? "k" + splits : "");
        LaunchBuilder lb = ctx.launch(sig.key() + MatmulPrologue.suffix(m) + "_m" + bm + "n" + bn + part + how,
                "y[m, n] = sum_k x[m, k] * w[n, k] with f16 operand tiles in shared memory, "
                        + (simt ? (dot2 ? "v_dot2_f32_f16" : "f32 FMAs") + " on the vector units" : unit + " matrix steps") + ", w " + w.type()
                        + (shortRows == 0 ? "" : isShort ? "; prompts of at most " + shortRows + " tokens" : "; prompts of more than " + shortRows + " tokens")
                        + (splits > 1 ? ", K in " + splits + " splits" : ""));
        Expr seq = lb.seq(), tilesN = c((n + bn - 1) / bn);
        Expr gridX = shortRows == 0 ? tilesN : isShort ? GemmRule.oneTileOnly(seq, shortRows, tilesN) : longOnly(seq, shortRows, tilesN);
        lb.block(threads).grid(gridX, isShort ? c(1) : LaunchBuilder.ceilDiv(seq, bm), splits > 1 ? GemmRule.oneTileOnly(seq, shortRows, c(splits)) : c(1))
                .knob("bm", bm).knob("bn", bn).knob("short_rows", shortRows);
        if (splits > 1) lb.knob("split_k", splits);
        if (simt) lb.knob("tm", tm).knob("tn", tn);
        MatmulPrologue.Operands ops = MatmulPrologue.bind(lb, m, ctx);
        Buffer x = ops.x(), data = ops.w(), scales = ops.scales(), bias = ops.bias(), res = ops.residual();
        Buffer y = lb.output("y", out);
        Buffer partials = splits > 1 ? lb.scratch("partials", GemmRule.SPLIT_SCRATCH, KType.F32, (long) splits * bm * n) : null;
        Shared xs = lb.shared("xs", KType.U32, bm * stride);
        Shared ws = lb.shared("ws", KType.U32, bn * stride);

        K.Body b = lb.body;
        // the other kernel's prompts: return at once (a grid of one block)
        if (shortRows > 0) b.ifThen(isShort ? gt(seq, c(shortRows)) : le(seq, c(shortRows)), K.Body::ret);
        Expr.Var n0 = b.let("n0", mul(bid(0), c(bn)));
        Expr.Var m0 = b.let("m0", mul(bid(1), c(bm)));
        GemmTiles tiles = new GemmTiles(lb, x, data, scales, w, qs, quant, k, n, GemvRule.perWord(w), bm, bn, threads, m0, n0, xs, ws, stride);
        KRange range = new KRange(c(0), c(k), c(k - BK));
        if (splits > 1) { // this block's share of K: whole 32-wide steps, split z of gridDim.z
            Expr.Var kPer = b.let("k_per", mul(div(add(c(k / BK), sub(gdim(2), c(1))), gdim(2)), c(BK)));
            Expr.Var kLo = b.let("k_lo", mul(bid(2), kPer));
            Expr.Var kHi = b.let("k_hi", min(c(k), add(kLo, kPer)));
            range = new KRange(kLo, kHi, sub(kHi, c(BK)));
        }
        // split: each block's partial tile to scratch [split, seq, n] for the reduce kernel; else the epilogue
        Consumer<List<Acc>> store = partials != null ? accs -> partials(b, accs, seq, n, partials)
                : coop ? accs -> epilogue(b, m, accs, MatrixUnit.NONE, seq, n, bias, res, y) : accs -> epilogue(b, m, accs, unit, seq, n, bias, res, y);
        if (coop) {
            cooperative(b, tiles, range, bm, bn, sub, lb.shared("ys", KType.F32, WAVES * MatrixTile.SIZE * MatrixTile.SIZE), store);
            return lb.build();
        }
        store.accept(simt ? simtLoop(b, tiles, range, bm, bn, tm, tn, dot2) : matrixLoop(b, tiles, range, unit, bm, bn));
        return lb.build();
    }

    /** Each accumulator inside y to its split's partial tile, {@code [split, seq, n]} f32 (grid z is the split). */
    private static void partials(K.Body b, List<Acc> accs, Expr seq, int n, Buffer partials) {
        for (Acc a : accs)
            b.ifThen(land(lt(a.row(), seq), lt(a.col(), c(n))), st -> st.store(partials, add(mul(add(mul(bid(2), seq), a.row()), c(n)), a.col()), a.value()));
    }

    /**
     * The matrix units: subgroup s of four (2×2) owns rows {@code (s/2)·bm/2} and columns
     * {@code (s%2)·bn/2} of the tile; lane l reads row {@code l%16} of each 16-row A slice and
     * column {@code l%16} of each 16-column B slice at the k its group {@code l/16} holds.
     */
    private static List<Acc> matrixLoop(K.Body b, GemmTiles tiles, KRange k, MatrixUnit unit, int bm, int bn) {
        int mt = bm / 2 / 16, nt = bn / 2 / 16;
        Expr.Var wave = b.let("wave", div(tid(0), c(unit.lanes)));
        Expr.Var lane = b.let("lane", mod(tid(0), c(unit.lanes)));
        Expr.Var l16 = b.let("l16", mod(lane, c(16)));
        Expr.Var grp = b.let("grp", div(lane, c(16)));
        Expr.Var wRow = b.let("wm0", mul(div(wave, c(2)), c(bm / 2)));
        Expr.Var wCol = b.let("wn0", mul(mod(wave, c(2)), c(bn / 2)));
        // the word (k pair) lane's group starts at within a 16-wide k step
        Expr.Var kWord = b.let("kword", mul(grp, c(unit.kPerGroup / 2)));
        Expr.Var[][][] acc = new Expr.Var[mt][nt][unit.accRegs];
        for (int i = 0; i < mt; i++)
            for (int j = 0; j < nt; j++)
                for (int r = 0; r < unit.accRegs; r++) acc[i][j][r] = b.let("acc" + i + "_" + j + "_" + r, f(0));
        steps(b, tiles, k, s -> {
            for (int ks = 0; ks < BK / 16; ks++) {
                int kw = ks * 8;
                List<List<Expr>> aFrag = new ArrayList<>(), bFrag = new ArrayList<>();
                for (int i = 0; i < mt; i++) aFrag.add(fragment(s, tiles.xs, add(add(wRow, c(i * 16)), l16), kWord, kw, unit.aRegs, "a"));
                for (int j = 0; j < nt; j++) bFrag.add(fragment(s, tiles.ws, add(add(wCol, c(j * 16)), l16), kWord, kw, unit.bRegs, "b"));
                for (int i = 0; i < mt; i++)
                    for (int j = 0; j < nt; j++) s.mma(unit, List.of(acc[i][j]), aFrag.get(i), bFrag.get(j));
            }
        });
        List<Acc> out = new ArrayList<>();
        for (int i = 0; i < mt; i++)
            for (int j = 0; j < nt; j++)
                for (int r = 0; r < unit.accRegs; r++) {
                    Expr row = add(add(tiles.m0, add(wRow, c(i * 16 + unit.rowStride * r))), mul(grp, c(unit.rowsPerGroup)));
                    Expr col = add(add(tiles.n0, add(wCol, c(j * 16))), l16);
                    out.add(new Acc(row, col, acc[i][j][r]));
                }
        return out;
    }

    /**
     * Cooperative matrices: subgroup s of four (2×2) owns rows {@code (s/2)·bm/2} and columns
     * {@code (s%2)·bn/2} of the tile as 16×16 accumulator tiles; per 16-wide k step it loads its A
     * tiles from the x rows (row-major) and its B tiles from the w rows (a w row is a column of B:
     * column-major) and multiplies every pair. Then, one accumulator tile at a time, it stores the
     * tile into its 16×16 of {@code ys} and its lanes take the tile's elements, consecutive pairs in
     * one lane (so silu·mul finds (gate, up) together), for {@code epilogue}.
     */
    private static void cooperative(K.Body b, GemmTiles tiles, KRange k, int bm, int bn, int sub, Shared ys, Consumer<List<Acc>> epilogue) {
        int mt = bm / 2 / 16, nt = bn / 2 / 16, size = MatrixTile.SIZE;
        Expr.Var wave = b.let("wave", div(tid(0), c(sub)));
        Expr.Var lane = b.let("lane", mod(tid(0), c(sub)));
        Expr.Var wRow = b.let("wm0", mul(div(wave, c(2)), c(bm / 2)));
        Expr.Var wCol = b.let("wn0", mul(mod(wave, c(2)), c(bn / 2)));
        MatrixTile[][] acc = new MatrixTile[mt][nt];
        MatrixTile[] ta = new MatrixTile[mt], tb = new MatrixTile[nt];
        for (int i = 0; i < mt; i++) ta[i] = new MatrixTile("a" + i, MatrixTile.Use.A);
        for (int j = 0; j < nt; j++) tb[j] = new MatrixTile("b" + j, MatrixTile.Use.B);
        for (int i = 0; i < mt; i++)
            for (int j = 0; j < nt; j++) {
                acc[i][j] = new MatrixTile("acc" + i + "_" + j, MatrixTile.Use.ACC);
                b.tileFill(acc[i][j], 0f);
            }
        steps(b, tiles, k, s -> {
            for (int kw = 0; kw < BK / 2; kw += size / 2) {
                for (int i = 0; i < mt; i++) s.tileLoad(ta[i], tiles.xs, add(mul(add(wRow, c(i * size)), c(COOP_STRIDE)), c(kw)), COOP_STRIDE, false);
                for (int j = 0; j < nt; j++) s.tileLoad(tb[j], tiles.ws, add(mul(add(wCol, c(j * size)), c(COOP_STRIDE)), c(kw)), COOP_STRIDE, true);
                for (int i = 0; i < mt; i++)
                    for (int j = 0; j < nt; j++) s.tileMma(acc[i][j], ta[i], tb[j]);
            }
        });
        Expr.Var mine = b.let("ys0", mul(wave, c(size * size)));
        for (int i = 0; i < mt; i++)
            for (int j = 0; j < nt; j++) {
                b.tileStore(acc[i][j], ys, mine, size);
                List<Acc> out = new ArrayList<>();
                for (int p = 0; p < size * size / 2; p += sub) { // element pair lane + p: (2q, 2q+1) of the tile, row-major
                    Expr.Var q = b.let(b.fresh("pair"), add(lane, c(p)));
                    Expr row = add(tiles.m0, add(wRow, add(c(i * size), div(q, c(size / 2)))));
                    Expr col = add(tiles.n0, add(wCol, add(c(j * size), mul(mod(q, c(size / 2)), c(2)))));
                    Expr.Var lo = b.let(b.fresh("y"), sload(ys, add(mine, mul(q, c(2)))));
                    Expr.Var hi = b.let(b.fresh("y"), sload(ys, add(mine, add(mul(q, c(2)), c(1)))));
                    out.add(new Acc(row, col, lo));
                    out.add(new Acc(row, add(col, c(1)), hi));
                }
                epilogue.accept(out);
            }
    }

    /** {@code regs} words of one shared row: the lane's k pairs of one 16-wide step. */
    private static List<Expr> fragment(K.Body s, Shared tile, Expr row, Expr kWord, int kw, int regs, String prefix) {
        Expr.Var base = s.let(s.fresh(prefix + "row"), add(add(mul(row, c(STRIDE)), kWord), c(kw)));
        List<Expr> f = new ArrayList<>();
        for (int r = 0; r < regs; r++) f.add(s.let(s.fresh(prefix), sload(tile, add(base, c(r)))));
        return f;
    }

    /**
     * The vector units: thread t owns rows {@code ty·tm ..} ({@code ty = t / (bn/tn)}) and the column
     * pairs {@code 2(tx + p·bn/tn), +1} ({@code tx = t % (bn/tn)}), so (gate, up) pairs stay in one
     * thread and neighbouring threads read neighbouring shared rows of w.
     */
    private static List<Acc> simtLoop(K.Body b, GemmTiles tiles, KRange k, int bm, int bn, int tm, int tn, boolean dot2) {
        int across = bn / tn;
        Expr.Var tx = b.let("tx", mod(tid(0), c(across)));
        Expr.Var ty = b.let("ty", div(tid(0), c(across)));
        Expr[] rows = new Expr[tm], cols = new Expr[tn];
        for (int i = 0; i < tm; i++) rows[i] = b.let("r" + i, add(mul(ty, c(tm)), c(i)));
        for (int j = 0; j < tn; j++) cols[j] = b.let("c" + j, add(mul(add(tx, c(j / 2 * across)), c(2)), c(j % 2)));
        Expr.Var[][] acc = new Expr.Var[tm][tn];
        for (int i = 0; i < tm; i++)
            for (int j = 0; j < tn; j++) acc[i][j] = b.let("acc" + i + "_" + j, f(0));
        steps(b, tiles, k, s -> {
            Expr.Var kw = var("kw", KType.I32);
            s.forRange(kw, c(0), c(BK / 2), c(1), 4, t -> {
                Expr.Var[] a = new Expr.Var[tm], bb = new Expr.Var[tn];
                for (int i = 0; i < tm; i++) a[i] = t.let(t.fresh("a"), sload(tiles.xs, add(mul(rows[i], c(STRIDE)), kw)));
                for (int j = 0; j < tn; j++) bb[j] = t.let(t.fresh("b"), sload(tiles.ws, add(mul(cols[j], c(STRIDE)), kw)));
                for (int i = 0; i < tm; i++)
                    for (int j = 0; j < tn; j++) {
                        if (dot2) {
                            t.assign(acc[i][j], K.dot2(bitcast(KType.F16X2, a[i]), bitcast(KType.F16X2, bb[j]), acc[i][j]));
                        } else {
                            t.assign(acc[i][j], fma(cast(KType.F32, halfOf(a[i], false)), cast(KType.F32, halfOf(bb[j], false)), acc[i][j]));
                            t.assign(acc[i][j], fma(cast(KType.F32, halfOf(a[i], true)), cast(KType.F32, halfOf(bb[j], true)), acc[i][j]));
                        }
                    }
            });
        });
        List<Acc> out = new ArrayList<>();
        for (int i = 0; i < tm; i++)
            for (int j = 0; j < tn; j++) out.add(new Acc(add(tiles.m0, rows[i]), add(tiles.n0, cols[j]), acc[i][j]));
        return out;
    }

    /** The K loop over {@code k}: each 32-wide step's tiles to shared memory, the next step's fetched, {@code body} on this one. */
    private static void steps(K.Body b, GemmTiles tiles, KRange k, Consumer<K.Body> body) {
        // a split with no steps (K's steps fewer than the splits) fetches a step in bounds and sums nothing
        tiles.fetch(b, k.lo() instanceof Expr.Const ? k.lo() : min(k.lo(), c(tiles.k - BK)), true);
        Expr.Var k0 = var("k0", KType.I32);
        b.forRange(k0, k.lo(), k.hi(), c(BK), 1, s -> {
            tiles.toShared(s);
            s.barrier();
            tiles.fetch(s, min(add(k0, c(BK)), k.last()), false); // the next step's (this one's again at the end)
            body.accept(s);
            s.barrier();
        });
    }

    /**
     * Bias and residual, or silu·mul of (gate, up) column pairs: on the vector units both are in the
     * thread; with a matrix unit the up column is the neighbouring lane's, fetched by a shuffle that
     * every lane takes part in.
     */
    private static void epilogue(K.Body b, MatmulParts m, List<Acc> accs, MatrixUnit unit, Expr seq, int n, Buffer bias, Buffer res, Buffer y) {
        if (m.siluMulPairs()) {
            int half = n / 2;
            for (int i = 0; i < accs.size(); i++) {
                Acc a = accs.get(i);
                Expr gate = a.value(), up;
                Expr ok = land(lt(a.row(), seq), lt(a.col(), c(n)));
                if (unit == MatrixUnit.NONE) {
                    if (i % 2 == 1) continue;
                    up = accs.get(i + 1).value();
                } else {
                    up = b.let(b.fresh("up"), new Expr.ShuffleXor(a.value(), 1));
                    ok = land(eq(mod(a.col(), c(2)), c(0)), ok);
                }
                Expr upF = up;
                b.ifThen(ok, st -> {
                    Expr gv = bias == null ? gate : add(gate, load(bias, a.col()));
                    Expr uv = bias == null ? upF : add(upF, load(bias, add(a.col(), c(1))));
                    st.storeF(y, add(mul(a.row(), c(half)), div(a.col(), c(2))), mul(ElementwiseRule.silu(gv), uv));
                });
            }
            return;
        }
        for (Acc a : accs)
            b.ifThen(land(lt(a.row(), seq), lt(a.col(), c(n))), st -> {
                Expr.Var at = st.let(st.fresh("at"), add(mul(a.row(), c(n)), a.col()));
                Expr v = bias == null ? a.value() : add(a.value(), load(bias, a.col()));
                st.storeF(y, at, res == null ? v : add(v, load(res, at)));
            });
    }
}
