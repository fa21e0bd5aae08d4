package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Shared;
import jmlc.compiler.schedule.LaunchBuilder;

import java.util.ArrayList;
import java.util.List;

import static jmlc.compiler.kernel.K.*;

/**
 * {@link GemvHalfRule}'s prologue: the block's x row with the matmul's prologue applied (rms_norm's x·g·inv,
 * silu(gate)·up, or x as it is), staged in shared memory by a {@link Store}: f16 pairs ({@link #halvesStore}), or
 * dot4's bytes ({@link #bytesStore}).
 *
 * <p>Thread {@code t} stages words {@code j = t + r · threads} (8 values: float4s {@code 2j} and {@code 2j + 1}) for
 * rounds {@code r = 0 .. rounds - 1}. Every load of a wave of rounds is issued before any is used, so a block waits
 * on the L2 once a wave rather than once a round (the row is written by the kernel before, so it is read after the
 * grid dependency's wait, with the weights' first copies in flight). A norm holds its rounds' x in registers from the
 * sum of squares to the staging, and loads g (a weight: never written by the kernel before) ahead of the wait, so a
 * norm's row is read once: one L2 wait and a block reduction. Where a norm's rounds do not fit {@link #HELD} values a
 * thread, x and g are read again after the reduction (x·g is not staged in shared memory: a ring needs the room).
 * Past the row's end a round reads the last word (every lane runs every round: dot4's stores meet by shuffles) and
 * stores nothing. An f16 row ({@code HalfMatmulInputs}: a prologue-free GEMV's x) is read 8 values a load and staged
 * as it is.
 *
 * <p>An f32 row's word is two float4s, so a subgroup's loads of a round lie 32 bytes apart a lane and each touches
 * twice the sectors it uses (Nsight Compute: 18% excess L2 sectors on Llama-2-7B's qkv GEMV, its x and gain). With
 * {@code coalesced} (knob {@code x_coalesce}) each 32 threads of a round read their 64 consecutive float4s as two
 * loads of consecutive 16 bytes a lane, {@code A = f4[2 base + l]} and {@code B = f4[2 base + 32 + l]}
 * ({@code base} the group's first word), and a pair of lanes assembles its two words by one exchange: lane
 * {@code 2m} keeps A and takes its neighbour's A (word {@code base + m}), lane {@code 2m + 1} takes its neighbour's
 * B and keeps its B (word {@code base + 16 + m}); so thread {@code t} stages word
 * {@code r · threads + 32 (t / 32) + (t mod 32) / 2 + 16 (t mod 2)} instead of {@code r · threads + t}. Not with
 * dot4's bytes, whose 4 consecutive lanes stage a group's 4 consecutive words.
 */
final class GemvHalfPrologue {
    /** f32 values a thread holds from its staging loads at once (64 registers: the GEMV's main loop runs in 64 to 128). */
    static final int HELD = 64;

    /**
     * Stages one word of the row: word {@code j} (clamped into the row), whether it lies in the row (null where every
     * thread's word of the round does: a whole round), its 8 values in order (f32, or f16 where the row is f16).
     */
    interface Store {
        void word(K.Body s, Expr j, Expr inRow, List<Expr> values);
    }

    private final MatmulParts m;
    private final Buffer x, g;
    private final int k, words, threads, sub, rounds, xRounds;
    private final boolean norm, siluMul, normInRegisters, pairs;
    private final Shared scratch;
    private final List<List<Expr>> gAhead = new ArrayList<>(); // a norm's g words, by round, loaded before the wait

    /**
     * A norm's block reduction takes an f32 a subgroup of {@code lb}'s shared memory ({@code red}).
     *
     * @param x       the row's buffer ([seq, k] f32; silu·mul: [seq, 2k], gate then up)
     * @param g       a norm's gain ([k] f32), or null
     * @param xRounds knob {@code x_rounds}: rounds a wave (a norm held in registers where all its rounds fit one), or 0:
     *                as many as {@link #HELD} values a thread allow
     * @param coalesced knob {@code x_coalesce}: an f32 row read as a subgroup's consecutive float4s, a word assembled by
     *                one exchange between neighbouring lanes (where threads come in 32s; never with dot4's stores)
     */
    GemvHalfPrologue(LaunchBuilder lb, MatmulParts m, Buffer x, Buffer g, int k, int threads, int sub, int xRounds, boolean coalesced) {
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
        this.scratch = norm ? Reductions.scratch(lb, "red", threads, sub) : null;
        this.pairs = coalesced && coalescible(x.element(), threads);
    }

    /** Whether knob {@code x_coalesce} changes how a row of {@code x}'s element type is read: an f32 row, threads in 32s. */
    static boolean coalescible(KType xElement, int threads) {
        return xElement.equals(KType.F32) && threads % 32 == 0;
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

    /**
     * After the wait: the row of token {@code blockIdx.y} (its f32 offset {@code xb}) staged through {@code store}; no barrier
     * after. {@code afterLoads} runs once, where the first wave's loads of x are issued and none is used yet.
     */
    void stage(K.Body b, Expr.Var xb, Store store, java.util.function.Consumer<K.Body> afterLoads) {
        if (!norm) {
            int wave = xRounds != 0 ? xRounds : Math.max(1, HELD / (siluMul ? 16 : 8));
            for (int r0 = 0; r0 < rounds; r0 += wave) {
                int r1 = Math.min(rounds, r0 + wave);
                Wave xw = loadX(b, xb, 0, r0, r1), uw = siluMul ? loadX(b, xb, k, r0, r1) : null;
                if (r0 == 0) afterLoads.accept(b);
                List<List<Expr>> xq = xw.values(b), uq = siluMul ? uw.values(b) : null;
                for (int r = r0; r < r1; r++) {
                    List<Expr> v = xq.get(r - r0);
                    if (siluMul) {
                        List<Expr> a = v, u = uq.get(r - r0);
                        v = new ArrayList<>();
                        for (int l = 0; l < 8; l++) v.add(mul(ElementwiseRule.silu(cast(KType.F32, a.get(l))), cast(KType.F32, u.get(l))));
                    }
                    storeRound(b, r, v, store);
                }
            }
            return;
        }
        // rms_norm: the sum of squares (each word once: a round past the row's end adds nothing), then x·g·inv
        Expr.Var ss = b.let("ss", f(0));
        List<List<Expr>> held = normInRegisters ? loadX(b, xb, 0, rounds, afterLoads) : null;
        int wave = xRounds != 0 ? xRounds : HELD / 8;
        for (int r0 = 0; r0 < rounds; r0 += wave) {
            int r1 = Math.min(rounds, r0 + wave);
            List<List<Expr>> xq = held != null ? held.subList(r0, r1) : loadX(b, xb, r0, r1, r0 == 0 ? afterLoads : NOTHING);
            for (int r = r0; r < r1; r++) {
                Expr.Var part = b.let(b.fresh("sq"), f(0));
                for (Expr q : xq.get(r - r0)) b.assign(part, fma(cast(KType.F32, q), cast(KType.F32, q), part));
                Expr in = inRow(r);
                b.assign(ss, add(ss, in == null ? part : select(in, part, f(0))));
            }
        }
        Expr.Var total = Reductions.blockReduce(b, ss, threads, sub, scratch, false);
        Expr.Var inv = b.let("inv", rsqrt(add(div(total, f(k)), f(((Op.Prologue.RmsNorm) m.prologue()).eps()))));
        int pass = normInRegisters ? rounds : xRounds != 0 ? xRounds : HELD / 16;
        for (int r0 = 0; r0 < rounds; r0 += pass) {
            int r1 = Math.min(rounds, r0 + pass);
            List<List<Expr>> xq = held != null ? held.subList(r0, r1) : loadX(b, xb, r0, r1, NOTHING);
            List<List<Expr>> gq = !gAhead.isEmpty() ? gAhead.subList(r0, r1) : loadG(b, r0, r1);
            for (int r = r0; r < r1; r++) {
                List<Expr> v = new ArrayList<>(), a = xq.get(r - r0);
                List<Expr> gv = gq.get(r - r0);
                for (int l = 0; l < 8; l++) v.add(mul(mul(cast(KType.F32, a.get(l)), gv.get(l)), inv));
                storeRound(b, r, v, store);
            }
        }
    }

    /**
     * Stages a word of prologue(x row) as f16 ({@link GemvHalfTile.StagedX}): its 8 values as the pairs {@code (v_i, v_i+4)}
     * a word's nibbles pair, word {@code j} of chunk {@code j / vector} at row {@code j % vector}, so a subgroup's lanes,
     * each on its own chunk, then read 16 consecutive bytes apiece (no bank conflicts).
     */
    static Store halvesStore(GemvHalfTile.StagedX xs, int vector, int chunks) {
        return (s, j, inRow, v) -> {
            List<Expr.Var> vs = new ArrayList<>();
            for (int l = 0; l < 8; l++) vs.add(s.let(s.fresh("xv"), v.get(l)));
            Expr at = vector == 1 ? j : add(mul(mod(j, c(vector)), c(chunks)), div(j, c(vector)));
            Expr packed = new Expr.Pack(KType.U32X4, List.of(halves(vs.get(0), vs.get(4)), halves(vs.get(1), vs.get(5)),
                    halves(vs.get(2), vs.get(6)), halves(vs.get(3), vs.get(7))));
            if (inRow == null) s.sstore(xs.values(), at, packed);
            else s.ifThen(inRow, w -> w.sstore(xs.values(), at, packed));
        };
    }

    /**
     * Stages a word of prologue(x row) as bytes for dot4 ({@link GemvHalfTile.StagedX}): a word's 8 values a thread, so the 4
     * consecutive lanes of a group of 32 (a chunk) meet by shuffles: the group's largest magnitude sets its scale
     * {@code s = max / 127}; each value is rounded to the nearest of -127..127 (half away from zero, as GemvDot4Rule);
     * a word's even- and odd-indexed values are packed four to a u32 in the order its low and high nibbles lie; the
     * lanes of words 0 and 2 of a group take their neighbour's pair and store the group's two 16-byte entries, the first
     * also {@code (s / 16, s · (8 · sum of the odd-indexed bytes - zero · sum of the bytes))} (GemvHalfTile.accumulateDot4). Every lane of a
     * subgroup stages every round (the shuffles need them all): past the row's end a whole group has read the last
     * word ({@link GemvHalfPrologue}) and stores nothing.
     */
    static Store bytesStore(GemvHalfTile.StagedX xs, int chunks, int zero) {
        return (s, j, inRow, vals) -> {
            Expr.Var[] xv = new Expr.Var[8];
            Expr.Var amax = s.let(s.fresh("amax"), f(0));
            for (int e = 0; e < 8; e++) {
                xv[e] = s.let(s.fresh("xv"), cast(KType.F32, vals.get(e)));
                s.assign(amax, max(amax, new Expr.Unary(Expr.UnOp.ABS, xv[e])));
            }
            Reductions.warpReduce(s, amax, 4, true); // the group's 4 lanes
            Expr.Var inv = s.let(s.fresh("qinv"), select(gt(amax, f(0)), div(f(127), amax), f(0)));
            // the group's sum of the bytes, and of a word's odd-indexed ones (the high nibbles' partners)
            Expr.Var sum = s.let(s.fresh("qsum"), c(0)), sumOdd = s.let(s.fresh("qsum_odd"), c(0));
            Expr.Var[] qs = new Expr.Var[8];
            for (int e = 0; e < 8; e++) {
                Expr.Var sv = s.let(s.fresh("xs"), mul(xv[e], inv));
                qs[e] = s.let(s.fresh("xq"), GemvDot4Rule.roundHalfAway(sv));
                s.assign(sum, add(sum, qs[e]));
                if (e % 2 == 1) s.assign(sumOdd, add(sumOdd, qs[e]));
            }
            Reductions.warpReduce(s, sum, 4, false);
            Reductions.warpReduce(s, sumOdd, 4, false);
            Expr.Var[] pair = new Expr.Var[2]; // the word's even values, then its odd ones
            for (int odd = 0; odd < 2; odd++) {
                Expr word = null;
                for (int l = 0; l < 4; l++) {
                    Expr bits = GemvDot4Rule.byteAt(qs[2 * l + odd], l);
                    word = word == null ? bits : or(word, bits);
                }
                pair[odd] = s.let(s.fresh("xw"), word);
            }
            Expr.Var nextEven = s.let(s.fresh("xw_next_even"), shflXor(pair[0], 1)), nextOdd = s.let(s.fresh("xw_next_odd"), shflXor(pair[1], 1));
            Expr.Var v = s.let(s.fresh("wv_in_group"), mod(j, c(4))), gi = s.let(s.fresh("gq"), div(j, c(4)));
            Expr firstOfPair = eq(mod(v, c(2)), c(0));
            s.ifThen(inRow == null ? firstOfPair : land(inRow, firstOfPair), t -> {
                t.sstore(xs.values(), add(mul(div(v, c(2)), c(chunks)), gi), new Expr.Pack(KType.U32X4, List.of(pair[0], pair[1], nextEven, nextOdd)));
                t.ifThen(eq(v, c(0)), t0 -> {
                    Expr.Var scale = t0.let(t0.fresh("xscale"), div(amax, f(127)));
                    Expr share = cast(KType.F32, sub(mul(sumOdd, c(8)), mul(sum, c(zero)))); // exact: |.| < 2^24
                    t0.sstore(xs.groups(), gi, new Expr.Pack(KType.F32X2, List.of(div(scale, f(16)), mul(scale, share))));
                });
            });
        };
    }

    private void storeRound(K.Body b, int r, List<Expr> values, Store store) {
        store.word(b, b.let(b.fresh("jw"), word(r)), inRow(r), values);
    }

    /** Word {@code t + r · threads} (with {@link #pairs} the thread's word of its group's exchange), clamped into the row where the round is partial. */
    private Expr word(int r) {
        Expr j = add(threadWord(), c(r * threads));
        return whole(r) ? j : min(j, c(words - 1));
    }

    /** Whether thread t's word of round r lies in the row; null where every thread's does (a whole round). */
    private Expr inRow(int r) {
        return whole(r) ? null : lt(add(threadWord(), c(r * threads)), c(words));
    }

    /** The thread's word of round 0: {@code t}, or with {@link #pairs} {@code 32 (t / 32) + (t mod 32) / 2 + 16 (t mod 2)}. */
    private Expr threadWord() {
        if (!pairs) return tid(0);
        return add(add(mul(div(tid(0), c(32)), c(32)), div(mod(tid(0), c(32)), c(2))), mul(mod(tid(0), c(2)), c(16)));
    }

    /**
     * With {@link #pairs}: round {@code r}'s two loads of a group of 32 threads, float4s {@code 2 base + l} and
     * {@code 2 base + 32 + l} of the row at float4 {@code f0} ({@code base} the group's first word, {@code l} the
     * lane in the group), each clamped into the row where the round is partial.
     */
    private Expr.Var[] pairLoads(K.Body b, Buffer buf, Expr f0, int r, String name) {
        Expr first = add(mul(add(c(r * threads), mul(div(tid(0), c(32)), c(32))), c(2)), mod(tid(0), c(32)));
        Expr.Var[] ab = new Expr.Var[2];
        for (int h = 0; h < 2; h++) {
            Expr at = add(first, c(32 * h));
            ab[h] = b.let(b.fresh(name), load(buf, add(f0, whole(r) ? at : min(at, c(2 * words - 1))), KType.F32X4));
        }
        return ab;
    }

    /**
     * A wave of loads issued, none of them used yet: {@link #values} gives each round's word as its 8 values, emitting what
     * reads the loads (with {@link #pairs} the exchanges, which wait for them) where it is called.
     */
    private interface Wave {
        List<List<Expr>> values(K.Body b);
    }

    /** With {@link #pairs}: the words of rounds {@code [r0, r1)} of the row at float4 {@code f0}, every round's loads issued before any exchange (each waits for its loads). */
    private Wave pairWords(K.Body b, Buffer buf, Expr f0, int r0, int r1, String name) {
        List<Expr.Var[]> loads = new ArrayList<>();
        for (int r = r0; r < r1; r++) loads.add(pairLoads(b, buf, f0, r, name));
        return s -> {
            List<List<Expr>> out = new ArrayList<>();
            for (Expr.Var[] ab : loads) out.add(List.<Expr>of(exchange(s, ab, name)));
            return out;
        };
    }

    /**
     * With {@link #pairs}: the thread's word from its loads {@code A, B} ({@link #pairLoads}) and one exchange with its
     * neighbour: an even lane sends B and keeps A as the word's low half, an odd lane sends A and keeps B as its high half.
     */
    private static Expr.Var[] exchange(K.Body b, Expr.Var[] ab, String name) {
        Expr odd = eq(mod(tid(0), c(2)), c(1));
        Expr.Var[] word = new Expr.Var[8]; // values 0..3 the low half, 4..7 the high
        for (int q = 0; q < 4; q++) {
            Expr.Var got = b.let(b.fresh(name + "_x"), shflXor(select(odd, lane(ab[0], q), lane(ab[1], q)), 1));
            word[q] = b.let(b.fresh(name + "_lo"), select(odd, got, lane(ab[0], q)));
            word[4 + q] = b.let(b.fresh(name + "_hi"), select(odd, lane(ab[1], q), got));
        }
        return word;
    }

    private boolean whole(int r) {
        return (r + 1) * threads <= words;
    }

    private static final java.util.function.Consumer<K.Body> NOTHING = b -> { };

    /** Rounds {@code [r0, r1)} of the x row ({@link #loadX}), {@code between} run after their loads are issued and before any is read. */
    private List<List<Expr>> loadX(K.Body b, Expr xb, int r0, int r1, java.util.function.Consumer<K.Body> between) {
        Wave w = loadX(b, xb, 0, r0, r1);
        between.accept(b);
        return w.values(b);
    }

    /**
     * The 8 values of each round's word in {@code [r0, r1)} of the row at element offset {@code xb + offset}, all
     * loads issued at once: of an f32 row two float4s (f32 values), of an f16 row ({@code HalfMatmulInputs}) one
     * 16-byte load (f16 values, staged as they are). The loads are issued here, their values read where {@link Wave#values} is called.
     */
    private Wave loadX(K.Body b, Expr xb, int offset, int r0, int r1) {
        String name = offset == 0 ? "xa" : "xu";
        if (pairs) return pairWords(b, x, div(add(xb, c(offset)), c(4)), r0, r1, name);
        List<List<Expr>> out = new ArrayList<>();
        for (int r = r0; r < r1; r++) {
            List<Expr> values = new ArrayList<>(8);
            if (x.element().equals(KType.F16)) {
                Expr.Var w = b.let(b.fresh(name), load(x, add(div(add(xb, c(offset)), c(8)), word(r)), KType.U32X4));
                for (int l = 0; l < 8; l++) values.add(halfOf(lane(w, l / 2), l % 2 == 1));
            } else {
                Expr at = add(div(add(xb, c(offset)), c(4)), mul(word(r), c(2)));
                Expr.Var lo = b.let(b.fresh(name), load(x, at, KType.F32X4)), hi = b.let(b.fresh(name), load(x, add(at, c(1)), KType.F32X4));
                for (int l = 0; l < 8; l++) values.add(lane(l < 4 ? lo : hi, l % 4));
            }
            out.add(values);
        }
        return s -> out;
    }

    /** A norm's gain for rounds {@code [r0, r1)}, each round's word as its 8 values, all loads issued at once. */
    private List<List<Expr>> loadG(K.Body b, int r0, int r1) {
        if (pairs) return pairWords(b, g, c(0), r0, r1, "ga").values(b);
        List<List<Expr>> out = new ArrayList<>();
        for (int r = r0; r < r1; r++) {
            Expr at = mul(word(r), c(2));
            Expr.Var lo = b.let(b.fresh("ga"), load(g, at, KType.F32X4)), hi = b.let(b.fresh("ga"), load(g, add(at, c(1)), KType.F32X4));
            List<Expr> values = new ArrayList<>(8);
            for (int l = 0; l < 8; l++) values.add(lane(l < 4 ? lo : hi, l % 4));
            out.add(values);
        }
        return out;
    }
}
