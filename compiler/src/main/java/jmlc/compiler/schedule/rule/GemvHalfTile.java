package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Shared;

import java.util.ArrayList;
import java.util.List;

import static jmlc.compiler.kernel.K.*;

/**
 * A row tile of the f16 GEMV ({@link GemvHalfRule}): the weight loop over K in batches of 16-byte
 * loads (the next batch in flight while the current one is used), the dequantization and packed f16
 * products, the subgroups' reductions (and, with {@code ksplit}, their meeting in shared memory),
 * and the epilogue's stores; {@link MainLoop} says how the loop runs.
 */
final class GemvHalfTile {
    private GemvHalfTile() {}

    /**
     * How a tile's weight loop runs: rows a subgroup owns, u32 words a lane loads at once, chunks a
     * batch, odd nibbles in place, the next batch loaded before the current one is used, dot2 sums,
     * subgroups sharing a tile's rows ({@code ksplit}: subgroup {@code part} of a group of ksplit
     * reads chunk stretches {@code part, part + ksplit, ...}, each a subgroup wide, so the group's
     * lanes together read consecutive chunks), and above 0 the batches a ring of asynchronous copies
     * holds instead ({@link GemvHalfRing}; pipeline and the registers' batch ahead then unused), and with a
     * ring whether the block lets the next kernel launch as soon as its last copies are issued and whether the
     * scales travel in the ring beside the weights, there in pieces a subgroup, or in registers a batch ahead
     * ({@code ringScales}, {@link GemvHalfRing.Scales}), and whether a subgroup's first lane bulk-copies its batches
     * ({@code bulk}); with
     * {@code dot4} x is staged as bytes and a word's nibbles meet it in two integer dot products ({@link #accumulateDot4};
     * {@code inPlace} and {@code dot2} then unused).
     */
    record MainLoop(int rpw, int vector, int unroll, boolean inPlace, int pipeline, boolean dot2, int ksplit, boolean triggerEarly,
                    GemvHalfRing.Scales ringScales, boolean bulk, GemvHalfRing.FirstCopies first, boolean dot4) {
        String suffix() {
            return "r" + rpw + "v" + vector + "u" + unroll;
        }

        /** Batches in the ring (knob {@code stages}), 0 for the register loop. */
        int stages() {
            return first.stages();
        }

        String variant() {
            int stages = stages();
            return (inPlace ? "_n1" : "") + (stages > 0 ? "_ring" + stages + (triggerEarly ? "t" : "") + (ringScales == GemvHalfRing.Scales.WORDS || ringScales == GemvHalfRing.Scales.SPANS ? "" : ringScales == GemvHalfRing.Scales.PIECES ? "_rp" : "_rs") + (bulk ? "_bulk" : "")
                    + first.suffix() : (pipeline > 0 ? "_p" + pipeline : "") + (triggerEarly ? "_t" : ""))
                    + (dot4 ? "_d4" : dot2 ? "_dot2" : "") + (ksplit > 1 ? "_ks" + ksplit : "");
        }

        /** Chunks between a lane's consecutive chunks in a batch: its group's lanes in all. */
        int stride(int sub) {
            return sub * ksplit;
        }
    }

    /**
     * The x row as the block stages it in shared memory ({@link GemvHalfRule}'s prologue). In f16 ({@code groups}
     * null): {@code values} entry {@code (v, c)} at {@code v · chunks + c} holds the four half2 pairs word {@code v}
     * of chunk {@code c} pairs, {@code (x_0, x_4) (x_1, x_5) (x_2, x_6) (x_3, x_7)} of its 8. With {@code dot4}, a
     * chunk (16 bytes, 32 weights) is one quantization group, and x is rounded to signed bytes a group:
     * {@code values} entry {@code (h, c)} at {@code h · chunks + c} holds, for words {@code 2h} and {@code 2h + 1} of
     * chunk {@code c}, the bytes of the even-indexed and then the odd-indexed of each word's 8 x values (a word's low
     * and high nibbles), and {@code groups} entry {@code c} the f32 pair {@code (s / 16, s · (8 · sum of the odd-indexed
     * bytes - zero · sum of the bytes))}, {@code s} the group's scale ({@link #accumulateDot4} says why).
     */
    record StagedX(Shared values, Shared groups) {
        boolean bytes() {
            return groups != null;
        }
    }

    /**
     * One tile of {@code warps / ksplit · rowsPerWarp} rows: the weight loop over K, then the reductions
     * and the stores. A chunk's products are summed by packed f16 FMAs into an f16 pair, or with {@code dot2}
     * by {@code v_dot2_f32_f16} straight into f32 (same instruction count, f32 partial sums).
     */
    static void tileBody(K.Body b, MatmulParts m, QuantScheme q, Expr tile, Slice slice, int sub, int n, int blockRows,
                         int chunks, MainLoop loop, Loads loads, Batch ahead, StagedX xs, Buffer bias, Buffer res, Buffer y) {
        int rpw = loop.rpw(), unroll = loop.unroll(), stride = loop.stride(sub);
        Expr group = slice.group(), start = slice.start();
        Expr.Var row0 = b.let("row0", add(mul(tile, c(blockRows)), mul(group, c(rpw))));
        Expr.Var[] rowc = new Expr.Var[rpw];
        Expr.Var[] acc = new Expr.Var[rpw];
        for (int i = 0; i < rpw; i++) {
            rowc[i] = b.let("rowc" + i, min(add(row0, c(i)), c(n - 1)));
            acc[i] = b.let("acc" + i, f(0));
        }
        Expr.Var c0 = var("c0", KType.I32);
        if (loop.pipeline() == 0) {
            b.forRange(c0, start, c(chunks), c(stride * unroll), 1, s -> {
                Batch cur = loads.issue(s, rowc, c0);
                for (int u = 0; u < unroll; u++) accumulate(s, q, loop, xs, chunks, cur, u, acc);
            });
        } else {
            // the next batch's loads go out before the current one is used. Pipeline 1: the tile's
            // first batch before its loop, and past its end chunk 0 again (the cache holds it);
            // pipeline 2: the first batch came before the prologue, and past a tile's end the next
            // tile's first batch, so a subgroup's loads never stop (past the last tile, the last row)
            Batch cur = loop.pipeline() == 1 ? loads.issue(b, rowc, start) : ahead;
            b.forRange(c0, start, c(chunks), c(stride * unroll), 1, s -> {
                Expr.Var nc = s.let("nc", add(c0, c(stride * unroll)));
                Batch next;
                if (loop.pipeline() == 1) next = loads.issue(s, rowc, nc);
                else {
                    Expr.Var inTile = s.let("in_tile", lt(nc, c(chunks)));
                    Expr[] nextTile = tileRows(add(tile, gdim(0)), group, blockRows, rpw, n);
                    Expr[] rows = new Expr[rpw];
                    for (int i = 0; i < rpw; i++) rows[i] = s.let(s.fresh("nrow"), select(inTile, rowc[i], nextTile[i]));
                    next = loads.issue(s, rows, s.let("nchunk", select(inTile, nc, start)));
                }
                Batch now = loads.at(s, c0, cur.w(), cur.scale());
                for (int u = 0; u < unroll; u++) accumulate(s, q, loop, xs, chunks, now, u, acc);
                for (int u = 0; u < unroll; u++)
                    for (int i = 0; i < rpw; i++) {
                        s.assign(cur.w[u][i], next.w[u][i]);
                        s.assign(cur.scale[u][i], next.scale[u][i]);
                    }
            });
        }
        finish(b, m, row0, acc, slice, sub, n, loop, bias, res, y);
    }

    /** {@code silu(gate) · up} of a gate row {@code gateRow} and the up row after it, their biases added where there are any. */
    private static Expr siluMulPair(Expr gate, Expr up, Buffer bias, Expr gateRow) {
        Expr gv = bias == null ? gate : add(gate, load(bias, gateRow));
        Expr uv = bias == null ? up : add(up, load(bias, add(gateRow, c(1))));
        return mul(ElementwiseRule.silu(gv), uv);
    }

    /**
     * A tile's end: the subgroup reduces each row's sum (and with ksplit the subgroups meet), and lane 0
     * of the row's subgroup adds bias and residual and stores it (silu·mul of a gate and an up row: one output).
     */
    static void finish(K.Body b, MatmulParts m, Expr row0, Expr.Var[] acc, Slice slice, int sub, int n, MainLoop loop, Buffer bias, Buffer res, Buffer y) {
        int rpw = loop.rpw();
        for (int i = 0; i < rpw; i++) Reductions.warpReduce(b, acc[i], sub, false);
        Expr laneId = slice.lane();
        if (slice.partial() != null) laneId = meetPartials(b, slice, loop, acc);
        if (m.siluMulPairs()) { // rows 2j (gate) and 2j+1 (up) are this warp's: one output each
            // an f16 output of two adjacent pairs (row0 a multiple of 4) goes out in one 4-byte store: no 2-byte writes
            if (y.element().equals(KType.F16) && rpw % 4 == 0 && n % 4 == 0) {
                for (int i = 0; i < rpw; i += 4) {
                    Expr.Var rowI = b.let("out_row" + i, add(row0, c(i)));
                    List<Expr> out = new ArrayList<>();
                    for (int p = 0; p < 2; p++) out.add(cast(KType.F16, siluMulPair(acc[i + 2 * p], acc[i + 2 * p + 1], bias, add(rowI, c(2 * p)))));
                    b.ifThen(land(eq(laneId, c(0)), lt(rowI, c(n))),
                            t -> t.store(y, add(mul(bid(1), c(n / 4)), div(rowI, c(4))), new Expr.Pack(KType.F16X2, out)));
                }
                return;
            }
            for (int i = 0; i < rpw; i += 2) {
                Expr.Var rowI = b.let("out_row" + i, add(row0, c(i)));
                Expr.Var gate = acc[i], upv = acc[i + 1];
                b.ifThen(land(eq(laneId, c(0)), lt(rowI, c(n))),
                        t -> t.storeF(y, add(mul(bid(1), c(n / 2)), div(rowI, c(2))), siluMulPair(gate, upv, bias, rowI)));
            }
            return;
        }
        for (int i = 0; i < rpw; i++) {
            Expr.Var rowI = b.let("out_row" + i, add(row0, c(i)));
            Expr.Var accI = acc[i];
            b.ifThen(land(eq(laneId, c(0)), lt(rowI, c(n))), t -> {
                Expr.Var at = t.let(t.fresh("at"), add(mul(bid(1), c(n)), rowI));
                Expr v = bias == null ? accI : add(accI, load(bias, rowI));
                t.storeF(y, at, res == null ? v : add(v, load(res, at)));
            });
        }
    }

    /**
     * One batch of a subgroup's loads: for each of {@code unroll} chunks (a lane's {@code vector}
     * words at chunk {@code c0 + stride·u}, stride the lanes of the subgroups sharing the rows) and
     * each of its rows, the words and their quantization group's scale;
     * {@code ok[u]} whether the chunk exists (else chunk 0 was read and is not used).
     */
    record Batch(Expr.Var[] ok, Expr.Var[] chunk, Expr.Var[][] w, Expr.Var[][] scale) {}

    /** Issues the loads of a batch: a subgroup's rows {@code rowc}, {@code unroll} chunks from {@code c0}. */
    record Loads(Buffer data, Buffer scales, int chunks, int k, int stride, MainLoop loop) {
        Batch issue(K.Body s, Expr[] rowc, Expr c0) {
            int unroll = loop.unroll(), rpw = loop.rpw(), vector = loop.vector();
            KType vt = vector == 1 ? KType.U32 : new KType(KType.Scalar.U32, vector);
            Batch batch = at(s, c0, new Expr.Var[unroll][rpw], new Expr.Var[unroll][rpw]);
            for (int u = 0; u < unroll; u++)
                for (int i = 0; i < rpw; i++) {
                    batch.w()[u][i] = s.let(s.fresh("wv"), load(data, add(mul(rowc[i], c(chunks)), batch.chunk()[u]), vt));
                    batch.scale()[u][i] = s.let(s.fresh("sc"), loadF32(scales, add(mul(rowc[i], c(k / 32)), div(mul(batch.chunk()[u], c(vector)), c(4)))));
                }
            return batch;
        }

        /**
         * The chunks from {@code c0} ({@code ok[u]}: chunk {@code c0 + stride·u} exists, else chunk 0 stands
         * in), with the words and scales {@code w} and {@code scale} hold or will hold.
         */
        Batch at(K.Body s, Expr c0, Expr.Var[][] w, Expr.Var[][] scale) {
            int unroll = loop.unroll();
            Expr.Var[] ok = new Expr.Var[unroll], ci = new Expr.Var[unroll];
            for (int u = 0; u < unroll; u++) {
                ok[u] = s.let(s.fresh("ok"), lt(add(c0, c(stride * u)), c(chunks)));
                ci[u] = s.let(s.fresh("ci"), select(ok[u], add(c0, c(stride * u)), c(0)));
            }
            return new Batch(ok, ci, w, scale);
        }
    }

    /** The rows group {@code group} of subgroups owns in tile {@code tile}, clamped to the last row (loads past it read that row). */
    static Expr[] tileRows(Expr tile, Expr group, int blockRows, int rpw, int n) {
        Expr[] rows = new Expr[rpw];
        for (int i = 0; i < rpw; i++) rows[i] = min(add(add(mul(tile, c(blockRows)), mul(group, c(rpw))), c(i)), c(n - 1));
        return rows;
    }

    /**
     * Where a thread works: its subgroup, its group of subgroups (the rows it owns) and part in it,
     * its lane, its first chunk, and with ksplit above 1 the shared f32 partial sums, one per subgroup and row.
     */
    record Slice(Expr warp, Expr group, Expr part, Expr lane, Expr start, Shared partial) {}

    /**
     * The ksplit subgroups of a group met: lane 0 of each writes its rows' sums to shared memory
     * (subgroup {@code w}'s row {@code i} at {@code w · rpw + i}); after a barrier, lane 0 of the
     * group's first subgroup adds the others' (in part order) into its own; a second barrier keeps
     * the next tile's writes after these reads. Returns what stands for the lane in the epilogue's
     * "lane 0 writes": the lane in a group's first subgroup, else 1.
     */
    private static Expr meetPartials(K.Body b, Slice slice, MainLoop loop, Expr.Var[] acc) {
        int rpw = loop.rpw(), ksplit = loop.ksplit();
        Shared partial = slice.partial();
        Expr.Var slot = b.let("slot", mul(slice.warp(), c(rpw)));
        b.ifThen(eq(slice.lane(), c(0)), t -> {
            for (int i = 0; i < rpw; i++) t.sstore(partial, add(slot, c(i)), acc[i]);
        });
        b.barrier();
        b.ifThen(land(eq(slice.lane(), c(0)), eq(slice.part(), c(0))), t -> {
            for (int i = 0; i < rpw; i++)
                for (int p = 1; p < ksplit; p++) t.assign(acc[i], add(acc[i], sload(partial, add(slot, c(p * rpw + i)))));
        });
        b.barrier();
        return b.let("writer", select(eq(slice.part(), c(0)), slice.lane(), c(1)));
    }

    /**
     * Chunk {@code u} of a batch into the rows' f32 sums: per u32 word, four half2 pairs of signed
     * 4-bit values against the staged x pairs, summed in f16 (or by dot2 into f32), then scaled.
     */
    static void accumulate(K.Body s, QuantScheme q, MainLoop loop, StagedX x, int chunks, Batch batch, int u, Expr.Var[] acc) {
        if (x.bytes()) {
            accumulateDot4(s, loop, x, chunks, batch, u, acc);
            return;
        }
        Shared xs = x.values();
        int rpw = loop.rpw(), vector = loop.vector();
        boolean dot2 = loop.dot2();
        // f16 bit patterns: 1024 + z is 0x6400 + z; 1/16 is 0x2C00; -(64 + z) is 0xD400 + 16 z (64 .. 128 in steps of 1/16)
        Expr zero2 = bitcast(KType.F16X2, u((0x6400L + q.zero()) * 0x10001L));
        Expr sixteenth = bitcast(KType.F16X2, u(0x2C002C00L));
        Expr minusZero64 = bitcast(KType.F16X2, u((0xD400L + 16L * q.zero()) * 0x10001L));
        s.ifThen(batch.ok()[u], t -> {
            Expr.Var[] part = new Expr.Var[rpw];
            for (int v = 0; v < vector; v++) {
                Expr.Var xq = t.let(t.fresh("xq"), sload(xs, add(c(v * chunks), batch.chunk()[u])));
                for (int i = 0; i < rpw; i++) {
                    Expr word = vector == 1 ? batch.w()[u][i] : lane(batch.w()[u][i], v);
                    Expr.Var high = loop.inPlace() ? t.let(t.fresh("wh"), shr(word, u(8))) : null;
                    for (int kk = 0; kk < 4; kk++) {
                        Expr qv;
                        if (loop.inPlace()) { // pairs (q0,q4) (16q1,16q5) from w; (q2,q6) (16q3,16q7) from w >> 8
                            Expr src = kk < 2 ? word : high;
                            Expr bits = or(and(src, u(kk % 2 == 0 ? 0x000F000FL : 0x00F000F0L)), u(0x64006400L));
                            qv = kk % 2 == 0 ? sub(bitcast(KType.F16X2, bits), zero2) : fma(bitcast(KType.F16X2, bits), sixteenth, minusZero64);
                        } else {
                            Expr bits = kk == 0 ? and(word, u(0x000F000FL)) : and(shr(word, u(4L * kk)), u(0x000F000FL));
                            qv = sub(bitcast(KType.F16X2, or(bits, u(0x64006400L))), zero2);
                        }
                        Expr xv = bitcast(KType.F16X2, lane(xq, kk));
                        if (dot2) {
                            if (part[i] == null) part[i] = t.let(t.fresh("p"), dot2(qv, xv, f(0)));
                            else t.assign(part[i], dot2(qv, xv, part[i]));
                        } else if (part[i] == null) part[i] = t.let(t.fresh("p"), mul(qv, xv));
                        else t.assign(part[i], fma(qv, xv, part[i]));
                    }
                }
            }
            for (int i = 0; i < rpw; i++) {
                Expr sum = dot2 ? part[i] : add(cast(KType.F32, lane(part[i], 0)), cast(KType.F32, lane(part[i], 1)));
                t.assign(acc[i], fma(sum, batch.scale()[u][i], acc[i]));
            }
        });
    }

    /**
     * Chunk {@code u} of a batch against x in bytes ({@code dot4}; the chunk is one quantization group, {@link StagedX}):
     * per u32 word, two integer dot products with the staged bytes, no dequantization: the low nibbles
     * {@code w & 0x0F0F0F0F} as unsigned bytes {@code q}, and the high nibbles where they lie,
     * {@code (w & 0xF0F0F0F0) ^ 0x80808080}, as signed bytes {@code 16 q - 128} (one lop3 each: no shift), each into
     * its own i32 sum (two chains). A group's {@code 16 · low + high} is then {@code 16 · sum(q x) - 128 · sum(odd x)}
     * exactly, and the staged pair {@code (s / 16, s · (8 · sum(odd x) - zero · sum(x)))} makes
     * {@code acc += w_scale · s · sum((q - zero) x)} in two FMAs. 4 instructions a word of 8 weights where the f16
     * products take 13; exact in the integers; x rounded to 8 bits (Precision's int8 bound).
     */
    static void accumulateDot4(K.Body s, MainLoop loop, StagedX x, int chunks, Batch batch, int u, Expr.Var[] acc) {
        int rpw = loop.rpw();
        s.ifThen(batch.ok()[u], t -> {
            Expr.Var[] low = new Expr.Var[rpw], high = new Expr.Var[rpw];
            for (int h = 0; h < 2; h++) {
                Expr.Var xq = t.let(t.fresh("xq"), sload(x.values(), add(c(h * chunks), batch.chunk()[u])));
                for (int i = 0; i < rpw; i++)
                    for (int half = 0; half < 2; half++) {
                        Expr.Var word = t.let(t.fresh("wd"), lane(batch.w()[u][i], 2 * h + half));
                        Expr lo = dot4(and(word, u(0x0F0F0F0FL)), lane(xq, 2 * half), low[i] == null ? c(0) : low[i]);
                        Expr hi = dot4(xor(and(word, u(0xF0F0F0F0L)), u(0x80808080L)), lane(xq, 2 * half + 1), high[i] == null ? c(0) : high[i]);
                        if (low[i] == null) {
                            low[i] = t.let(t.fresh("ilo"), lo);
                            high[i] = t.let(t.fresh("ihi"), hi);
                        } else {
                            t.assign(low[i], lo);
                            t.assign(high[i], hi);
                        }
                    }
            }
            Expr.Var group = t.let(t.fresh("xgrp"), sload(x.groups(), batch.chunk()[u]));
            for (int i = 0; i < rpw; i++) {
                Expr sixteenths = cast(KType.F32, add(shl(low[i], c(4)), high[i]));
                t.assign(acc[i], fma(fma(sixteenths, lane(group, 0), lane(group, 1)), batch.scale()[u][i], acc[i]));
            }
        });
    }
}
