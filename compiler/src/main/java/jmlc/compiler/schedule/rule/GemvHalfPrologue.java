package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Shared;

import java.util.ArrayList;
import java.util.List;

import static jmlc.compiler.kernel.K.*;

/**
 * {@link GemvHalfRule}'s prologue: the block's x row with the matmul's prologue applied (rms_norm's x·g·inv,
 * silu(gate)·up, or x as it is), staged in shared memory by a store the rule gives (f16 pairs, or dot4's bytes).
 *
 * <p>Thread {@code t} stages words {@code j = t + r · threads} (8 values: float4s {@code 2j} and {@code 2j + 1}) for
 * rounds {@code r = 0 .. rounds - 1}. Every load of a wave of rounds is issued before any is used, so a block waits
 * on the L2 once a wave rather than once a round (the row is written by the kernel before, so it is read after the
 * grid dependency's wait, with the weights' first copies in flight). A norm holds its rounds' x in registers from the
 * sum of squares to the staging, and loads g (a weight: never written by the kernel before) ahead of the wait, so a
 * norm's row is read once: one L2 wait and a block reduction. Where a norm's rounds do not fit {@link #HELD} values a
 * thread, x and g are read again after the reduction (x·g is not staged in shared memory: a ring needs the room).
 * Past the row's end a round reads the last word (every lane runs every round: dot4's stores meet by shuffles) and
 * stores nothing.
 */
final class GemvHalfPrologue {
    /** f32 values a thread holds from its staging loads at once (64 registers: the GEMV's main loop runs in 64 to 128). */
    static final int HELD = 64;

    /**
     * Stages one word of the row: word {@code j} (clamped into the row), whether it lies in the row (null where every
     * thread's word of the round does: a whole round), its 8 values in order.
     */
    interface Store {
        void word(K.Body s, Expr j, Expr inRow, List<Expr> values);
    }

    private final MatmulParts m;
    private final Buffer x, g;
    private final int k, words, threads, sub, rounds, xRounds;
    private final boolean norm, siluMul, normInRegisters;
    private final Shared scratch;
    private final List<Expr.Var[]> gAhead = new ArrayList<>(); // a norm's g quads, by round, loaded before the wait

    /**
     * @param x       the row's buffer ([seq, k] f32; silu·mul: [seq, 2k], gate then up)
     * @param g       a norm's gain ([k] f32), or null
     * @param scratch a norm's block reduction (an f32 a subgroup), or null
     * @param xRounds knob {@code x_rounds}: rounds a wave (a norm held in registers where all its rounds fit one), or 0:
     *                as many as {@link #HELD} values a thread allow
     */
    GemvHalfPrologue(MatmulParts m, Buffer x, Buffer g, int k, int threads, int sub, Shared scratch, int xRounds) {
        this.m = m;
        this.x = x;
        this.g = g;
        this.k = k;
        this.words = k / 8;
        this.threads = threads;
        this.sub = sub;
        this.rounds = rounds(k, threads);
        this.norm = m.prologue() instanceof Op.Prologue.RmsNorm;
        this.siluMul = m.prologue() instanceof Op.Prologue.SiluMul;
        this.xRounds = xRounds;
        this.normInRegisters = norm && (xRounds == 0 ? normInRegisters(k, threads) : rounds <= xRounds);
        this.scratch = scratch;
    }

    /** Rounds of words a thread stages: {@code ceil((k / 8) / threads)}. */
    static int rounds(int k, int threads) {
        return (k / 8 + threads - 1) / threads;
    }

    /** Whether a norm's x and g for all of a thread's rounds (16 values a round) fit {@link #HELD}. */
    static boolean normInRegisters(int k, int threads) {
        return rounds(k, threads) * 16 <= HELD;
    }

    /** Before the grid dependency's wait: a norm's g for every round, where the norm is held in registers and g is a weight. */
    void beforeWait(K.Body b) {
        if (normInRegisters && m.normWeight().kind() == Value.Kind.PARAM) gAhead.addAll(loadG(b, 0, rounds));
    }

    /** After the wait: the row of token {@code blockIdx.y} (its f32 offset {@code xb}) staged through {@code store}; no barrier after. */
    void stage(K.Body b, Expr.Var xb, Store store) {
        if (!norm) {
            int wave = xRounds != 0 ? xRounds : Math.max(1, HELD / (siluMul ? 16 : 8));
            for (int r0 = 0; r0 < rounds; r0 += wave) {
                int r1 = Math.min(rounds, r0 + wave);
                List<Expr.Var[]> xq = loadX(b, xb, 0, r0, r1), uq = siluMul ? loadX(b, xb, k, r0, r1) : null;
                for (int r = r0; r < r1; r++) {
                    List<Expr> v = new ArrayList<>();
                    Expr.Var[] a = xq.get(r - r0);
                    for (int l = 0; l < 8; l++)
                        v.add(siluMul ? mul(ElementwiseRule.silu(lane(a[l / 4], l % 4)), lane(uq.get(r - r0)[l / 4], l % 4)) : lane(a[l / 4], l % 4));
                    storeRound(b, r, v, store);
                }
            }
            return;
        }
        // rms_norm: the sum of squares (each word once: a round past the row's end adds nothing), then x·g·inv
        Expr.Var ss = b.let("ss", f(0));
        List<Expr.Var[]> held = normInRegisters ? loadX(b, xb, 0, 0, rounds) : null;
        int wave = xRounds != 0 ? xRounds : HELD / 8;
        for (int r0 = 0; r0 < rounds; r0 += wave) {
            int r1 = Math.min(rounds, r0 + wave);
            List<Expr.Var[]> xq = held != null ? held.subList(r0, r1) : loadX(b, xb, 0, r0, r1);
            for (int r = r0; r < r1; r++) {
                Expr.Var part = b.let(b.fresh("sq"), f(0));
                for (Expr.Var q : xq.get(r - r0)) for (int l = 0; l < 4; l++) b.assign(part, fma(lane(q, l), lane(q, l), part));
                Expr in = inRow(r);
                b.assign(ss, add(ss, in == null ? part : select(in, part, f(0))));
            }
        }
        Expr.Var total = Reductions.blockReduce(b, ss, threads, sub, scratch, false);
        Expr.Var inv = b.let("inv", rsqrt(add(div(total, f(k)), f(((Op.Prologue.RmsNorm) m.prologue()).eps()))));
        int pass = normInRegisters ? rounds : xRounds != 0 ? xRounds : HELD / 16;
        for (int r0 = 0; r0 < rounds; r0 += pass) {
            int r1 = Math.min(rounds, r0 + pass);
            List<Expr.Var[]> xq = held != null ? held.subList(r0, r1) : loadX(b, xb, 0, r0, r1);
            List<Expr.Var[]> gq = !gAhead.isEmpty() ? gAhead.subList(r0, r1) : loadG(b, r0, r1);
            for (int r = r0; r < r1; r++) {
                List<Expr> v = new ArrayList<>();
                Expr.Var[] a = xq.get(r - r0), gv = gq.get(r - r0);
                for (int l = 0; l < 8; l++) v.add(mul(mul(lane(a[l / 4], l % 4), lane(gv[l / 4], l % 4)), inv));
                storeRound(b, r, v, store);
            }
        }
    }

    private void storeRound(K.Body b, int r, List<Expr> values, Store store) {
        store.word(b, b.let(b.fresh("jw"), word(r)), inRow(r), values);
    }

    /** Word {@code t + r · threads}, clamped into the row where the round is partial. */
    private Expr word(int r) {
        Expr j = add(tid(0), c(r * threads));
        return whole(r) ? j : min(j, c(words - 1));
    }

    /** Whether thread t's word of round r lies in the row; null where every thread's does (a whole round). */
    private Expr inRow(int r) {
        return whole(r) ? null : lt(add(tid(0), c(r * threads)), c(words));
    }

    private boolean whole(int r) {
        return (r + 1) * threads <= words;
    }

    /** The two float4s of each round's word in {@code [r0, r1)} of the row at f32 offset {@code xb + offset}, all issued at once. */
    private List<Expr.Var[]> loadX(K.Body b, Expr xb, int offset, int r0, int r1) {
        List<Expr.Var[]> out = new ArrayList<>();
        for (int r = r0; r < r1; r++) {
            Expr at = add(div(add(xb, c(offset)), c(4)), mul(word(r), c(2)));
            out.add(new Expr.Var[] {b.let(b.fresh(offset == 0 ? "xa" : "xu"), load(x, at, KType.F32X4)),
                    b.let(b.fresh(offset == 0 ? "xa" : "xu"), load(x, add(at, c(1)), KType.F32X4))});
        }
        return out;
    }

    private List<Expr.Var[]> loadG(K.Body b, int r0, int r1) {
        List<Expr.Var[]> out = new ArrayList<>();
        for (int r = r0; r < r1; r++) {
            Expr at = mul(word(r), c(2));
            out.add(new Expr.Var[] {b.let(b.fresh("ga"), load(g, at, KType.F32X4)), b.let(b.fresh("ga"), load(g, add(at, c(1)), KType.F32X4))});
        }
        return out;
    }
}
