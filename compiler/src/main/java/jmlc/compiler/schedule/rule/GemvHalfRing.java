package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Shared;
import jmlc.compiler.kernel.Stmt;
import jmlc.compiler.schedule.LaunchBuilder;

import java.util.List;

import static jmlc.compiler.kernel.K.*;

/**
 * The f16 GEMV's weight loop through a ring of asynchronous copies ({@link GemvHalfRule}'s knob {@code stages}
 * above 0; CUDA sm_80+, {@code cp.async}): where the register loop keeps one batch of a lane's loads in flight,
 * here each lane copies its batches of 16-byte chunks and their scales into its own slots of a shared-memory
 * ring of {@code stages} batches and keeps {@code stages - 1} in flight without holding them in registers. The
 * first {@code stages - 1} go out before the kernel waits for the previous one and stages x, so a GEMV's first
 * bytes arrive while its prologue runs, and the last of the first {@code stages} once x is staged; knob
 * {@code after_wait} sends one or two of them right after the wait instead, so copies are in flight through the
 * prologue even where those before the wait have landed; knob {@code before_wait} copies only one or two before the
 * wait and the rest once x is staged, so x's loads queue behind fewer copies; knob {@code after_x} sends one or two of
 * them once x's first loads are issued, before any is used, so they stream through x's trip from the L2 without going
 * ahead of it ({@link FirstCopies}).
 *
 * <p>A block's batches are numbered across its tiles: batch {@code j} is chunk iteration {@code j % iters} of
 * its tile {@code j / iters} (tiles {@code blockIdx.x, blockIdx.x + gridDim.x, ...}), so the copies run on
 * past a tile's end into the next. Slot {@code j % stages} of the ring holds batch {@code j}: entry
 * {@code ((slot · unroll + u) · rpw + i) · threads + thread} is the thread's chunk {@code u} of row
 * {@code i} (consecutive lanes, consecutive 16 bytes: no bank conflicts), and the same entry of the scale
 * ring the u32 word holding that chunk's f16 scale (a copy moves at least 4 bytes; the chunk's parity picks
 * the half). A lane reads only the slots it copied, so its own wait is the only synchronization.
 *
 * <p>How the scales travel ({@link Scales}, knob {@code ring_scales}): {@code WORDS} as above. {@code REGISTERS}: the ring
 * holds only the weights (16 bytes a lane and row a batch instead of 20, so a ring of 4 stages leaves room for a third
 * block on a multiprocessor where it left two) and a lane loads its chunks' scales into registers one batch ahead: batch
 * 0's before the prologue, batch {@code j + 1}'s as batch {@code j} begins. {@code PIECES}: a subgroup's scales of a
 * batch are copied once, in 16-byte pieces of 8 consecutive chunks' scales, a piece a lane (with the defaults' 4
 * row-chunks a batch, 16 of 32 lanes copy one each: 1 copy a lane where {@code WORDS} has 4, each scale once where it
 * had it twice); entry {@code ((slot · subgroups + group) · unroll + u) · rpw + i} of the scale ring holds a subgroup's
 * {@code sub / 2} words of chunk {@code u} of row {@code i}, and a lane reads word {@code lane / 2} of it. A lane reads
 * what other lanes copied, so a subgroup barrier follows the wait, and another precedes the next copies into a slot its
 * lanes read. Needs 8 chunks' scales on 16 bytes: rows of a multiple of 256 and subgroups of a multiple of 8.
 *
 * <p>How the copies go out (knob {@code ring_copy}): 0, each lane its own with {@code cp.async} as above; 1, a subgroup's
 * batch as one bulk copy a row by its first lane ({@code cp.async.bulk}, sm_90+: Hopper's copy engine, whose copies do not
 * queue in the load path a lane's x loads take), completing on a copy barrier a slot and subgroup ({@code mbarrier}, phase
 * {@code j / stages} for batch {@code j}) that the subgroup's lanes wait on. A row's chunks of a batch are consecutive in
 * memory ({@code sub · unroll} of them from chunk {@code (j mod iters) · sub · unroll}), so the ring holds them so:
 * entry {@code ((slot · subgroups + group) · rpw + i) · sub · unroll + u · sub + lane} is the lane's chunk {@code u} of
 * row {@code i} (consecutive lanes, consecutive 16 bytes), and the scales travel the same way ({@link Scales#SPANS}): a
 * row's {@code sub · unroll} f16 scales, word {@code (u · sub + lane) / 2} of its span holding the lane's. A subgroup
 * barrier precedes the copies into a slot its lanes read. Needs spans of a multiple of 16 bytes: K a multiple of 256 and
 * {@code sub · unroll} of 8.
 */
final class GemvHalfRing {
    private GemvHalfRing() {}

    /** How a batch's scales reach its lanes (knob {@code ring_scales}: 0, 1, 2). */
    enum Scales {
        /** Loaded into registers a batch ahead; the ring holds only weights. */
        REGISTERS,
        /** Copied into the ring beside the weights, each lane the 4-byte word holding its chunk's scale. */
        WORDS,
        /** Copied into the ring once a subgroup, in 16-byte pieces of 8 chunks' scales, a piece a lane. */
        PIECES,
        /** Bulk-copied with the weights (knob {@code ring_copy} 1): a row's span of a batch's scales a copy. */
        SPANS;

        /**
         * Knob {@code ring_scales}' value {@code v} where it can be: pieces only where 8 chunks' scales start on 16 bytes (K a
         * multiple of 256, subgroups of 8); with bulk copies, spans (unless 0, registers).
         */
        static Scales of(int v, int k, int sub, boolean bulk) {
            return v == 0 ? REGISTERS : bulk ? SPANS : v == 2 && piecesFit(k, sub) ? PIECES : WORDS;
        }

        static boolean piecesFit(int k, int sub) {
            return k % 256 == 0 && sub % 8 == 0;
        }

        /** Shared-memory bytes a stage, thread, row and chunk. */
        int bytes() {
            return this == WORDS ? 4 : this == PIECES || this == SPANS ? 2 : 0;
        }
    }

    /** Whether bulk copies (knob {@code ring_copy} 1) can carry a ring's batches: a row's span of scales a multiple of 16 bytes and starting on 16. */
    static boolean bulkFits(int k, int sub, int unroll) {
        return k % 256 == 0 && sub * unroll % 8 == 0;
    }

    /**
     * Bytes of shared memory the ring takes: per stage, thread, row and chunk a 16-byte chunk and its scale ({@link Scales#bytes});
     * with bulk copies an 8-byte copy barrier a stage and subgroup.
     */
    static int bytes(int stages, int threads, int sub, int rpw, int unroll, Scales scales, boolean bulk) {
        return stages * threads * rpw * unroll * (16 + scales.bytes()) + (bulk ? stages * (threads / sub) * 8 : 0);
    }

    /**
     * The ring of one kernel: its arrays, and the numbers that place a batch: chunks a row, batches a tile
     * ({@code iters}), the block's batch count ({@code batches}, a local); {@code scales} null where the scales go
     * through registers, {@code nextScales} then the next batch's (by chunk and row).
     */
    record Ring(Shared words, Shared scales, Scales how, Shared bars, Buffer data, Buffer scaleBuf, FirstCopies first, int threads, int rpw, int unroll, int sub,
                int chunks, int groups, int iters, int n, int blockRows, Expr.Var batches, Expr group, Expr lane, Expr thread,
                Expr.Var[][] nextScales) {

        /** Batches in the ring. */
        int stages() {
            return first.stages();
        }

        /** The tile and first chunk of batch {@code j} (a tile's chunk iterations, each {@code sub · unroll} chunks on). */
        Expr tileOf(Expr j) {
            return add(bid(0), mul(div(j, c(iters)), gdim(0)));
        }

        /** The first of the rows the subgroup owns in tile {@code tile} (unclamped). */
        Expr firstRow(Expr tile) {
            return add(mul(tile, c(blockRows)), mul(group, c(rpw)));
        }

        Expr chunkOf(Expr j) {
            return add(lane, mul(mod(j, c(iters)), c(sub * unroll)));
        }

        Expr entry(Expr slot, int u, int i) {
            if (bulk()) return add(add(span(slot, i, sub * unroll), c(u * sub)), lane);
            return add(mul(add(mul(add(mul(slot, c(unroll)), c(u)), c(rpw)), c(i)), c(threads)), thread);
        }

        /** With bulk copies: where row {@code i}'s span of {@code size} elements of the subgroup's part of slot {@code slot} starts. */
        Expr span(Expr slot, int i, int size) {
            return mul(add(mul(add(mul(slot, c(threads / sub)), group), c(rpw)), c(i)), c(size));
        }

        /** Whether a subgroup's first lane bulk-copies its batches (knob {@code ring_copy} 1): {@link #bars} holds a copy barrier a slot and subgroup. */
        boolean bulk() {
            return bars != null;
        }

        /** With bulk copies: the copy barrier of the subgroup's part of slot {@code slot}. */
        Expr bar(Expr slot) {
            return add(mul(slot, c(threads / sub)), group);
        }

        /** Right after the grid dependency's wait: the {@code afterWait} batches after the {@code beforeWait} copied before it. */
        void issueAfterWait(K.Body b) {
            issueRange(b, first.beforeWait(), first.afterWait());
        }

        /** Once x's first loads are issued, before any is used: the {@code afterX} batches after those. */
        void issueAfterX(K.Body b) {
            issueRange(b, first.beforeWait() + first.afterWait(), first.afterX());
        }

        /** Once x is staged ({@link GemvHalfRing#loop} begins): the rest of the first {@code stages} batches (the last one by default). */
        void issueAfterPrologue(K.Body b) {
            issueRange(b, first.stages() - first.afterPrologue(), first.afterPrologue());
        }

        private void issueRange(K.Body b, int from, int count) {
            for (int j = from; j < from + count; j++) issue(b, c(j));
        }

        /** Whether the scales travel in pieces a subgroup ({@link Scales#PIECES}): lanes read each other's copies. */
        boolean pieces() {
            return how == Scales.PIECES;
        }

        /**
         * The scale word of the lane's chunk {@code u} of row {@code i} in slot {@code slot}: its own ({@link #entry}), with
         * pieces its subgroup's word {@code lane / 2}, with spans word {@code (u · sub + lane) / 2} of the row's.
         */
        Expr scaleEntry(Expr slot, int u, int i) {
            if (how == Scales.SPANS) return add(add(span(slot, i, sub * unroll / 2), c(u * sub / 2)), div(lane, c(2)));
            if (!pieces()) return entry(slot, u, i);
            return add(mul(add(mul(add(mul(add(mul(slot, c(threads / sub)), group), c(unroll)), c(u)), c(rpw)), c(i)), c(sub / 2)), div(lane, c(2)));
        }

        /** Whether every tile is whole (N a multiple of a tile's rows): no row is clamped, so a subgroup's rows lie a fixed stride apart. */
        boolean wholeTiles() {
            return n % blockRows == 0;
        }

        /** Whether a row's chunks fill every batch (a multiple of {@code sub · unroll}): no chunk of a batch is past the row's end. */
        boolean wholeBatches() {
            return chunks % (sub * unroll) == 0;
        }

        /**
         * Copies batch {@code j}, if the block has it, into slot {@code j % stages}, and commits the group (empty past the last).
         * Where the tiles are whole, a chunk's copies for the subgroup's rows are one offset (its first row's) plus a constant
         * a row, which the compiler folds into the copies' addresses (no per-row multiply, clamp or 64-bit add); where the
         * batches are whole, no chunk is checked against the row's end.
         */
        void issue(K.Body b, Expr j) {
            if (bulk()) {
                issueBulk(b, j);
                return;
            }
            b.ifThen(lt(j, batches), s -> {
                Expr.Var t = s.let(s.fresh("rt"), tileOf(j));
                Expr.Var c0 = s.let(s.fresh("rc"), chunkOf(j));
                Expr.Var slot = s.let(s.fresh("rslot"), mod(j, c(stages())));
                Expr.Var[] row = new Expr.Var[rpw]; // the subgroup's rows of the tile, clamped to the last (loads past it read that row)
                Expr.Var first = wholeTiles() ? s.let(s.fresh("rrow"), firstRow(t)) : null;
                if (first == null)
                    for (int i = 0; i < rpw; i++) row[i] = s.let(s.fresh("rrow"), min(add(firstRow(t), c(i)), c(n - 1)));
                for (int u = 0; u < unroll; u++) {
                    int uu = u;
                    Expr.Var ci = s.let(s.fresh("rci"), add(c0, c(sub * u)));
                    java.util.function.Consumer<K.Body> copies = cs -> {
                        // the scales as u32 words: groups a row is even, so the chunk's parity is the half
                        Expr.Var w0 = first == null ? null : cs.let(cs.fresh("rw"), add(mul(first, c(chunks)), ci));
                        Expr.Var s0 = first == null || scales == null || pieces() ? null : cs.let(cs.fresh("rs"), add(mul(first, c(groups / 2)), div(ci, c(2))));
                        for (int i = 0; i < rpw; i++) {
                            Expr at = entry(slot, uu, i);
                            cs.asyncCopy(words, at, data, first == null ? add(mul(row[i], c(chunks)), ci) : add(w0, c(i * chunks)));
                            if (scales != null && !pieces())
                                cs.asyncCopy(scales, at, scaleBuf, first == null ? div(add(mul(row[i], c(groups)), ci), c(2)) : add(s0, c(i * groups / 2)));
                        }
                    };
                    if (wholeBatches()) copies.accept(s);
                    else s.ifThen(lt(ci, c(chunks)), copies);
                }
                if (pieces()) copyPieces(s, t, j, slot);
            });
            b.asyncCommit();
        }

        /**
         * With bulk copies: batch {@code j}, if the block has it, by the subgroup's first lane into slot {@code j % stages}, a
         * copy a row of its weights (and of its scales, with spans), after an arrival at the slot's barrier that expects their
         * bytes. Where the batches are not whole, the last of a tile copies the chunks left (a multiple of 8: K is of 256).
         */
        void issueBulk(K.Body b, Expr j) {
            b.ifThen(land(lt(j, batches), eq(lane, c(0))), s -> {
                Expr.Var t = s.let(s.fresh("bt"), tileOf(j));
                Expr.Var slot = s.let(s.fresh("bslot"), mod(j, c(stages())));
                Expr.Var base = s.let(s.fresh("bc"), mul(mod(j, c(iters)), c(sub * unroll))); // the batch's first chunk of a row
                Expr.Var count = s.let(s.fresh("bn"), wholeBatches() ? c(sub * unroll) : min(c(sub * unroll), K.sub(c(chunks), base)));
                Expr.Var bar = s.let(s.fresh("bbar"), bar(slot));
                boolean spans = how == Scales.SPANS;
                s.copyBarrierExpect(bars, bar, mul(count, c(rpw * (16 + (spans ? 2 : 0)))));
                for (int i = 0; i < rpw; i++) {
                    Expr row = wholeTiles() ? add(firstRow(t), c(i)) : min(add(firstRow(t), c(i)), c(n - 1));
                    Expr.Var r = s.let(s.fresh("brow"), row);
                    s.bulkCopy(words, span(slot, i, sub * unroll), data, add(mul(r, c(chunks)), base), count, bars, bar);
                    if (spans) s.bulkCopy(scales, span(slot, i, sub * unroll / 2), scaleBuf, div(add(mul(r, c(groups)), base), c(2)), div(count, c(2)), bars, bar);
                }
            });
        }

        /**
         * The subgroup's scales of batch {@code j} in 16-byte pieces, piece {@code f = (u · rpw + i) · sub / 8 + q} (8 chunks'
         * scales from chunk {@code 8 q} of the subgroup's chunks {@code u} of row {@code i}) by lane {@code f mod sub}, into
         * words {@code 4 f ...} of the subgroup's part of the slot; a piece past the row's end is not copied.
         */
        void copyPieces(K.Body s, Expr.Var tile, Expr j, Expr.Var slot) {
            int perRow = sub / 8, count = unroll * rpw * perRow;
            Expr.Var base = s.let(s.fresh("pc"), mul(mod(j, c(iters)), c(sub * unroll))); // the subgroup's first chunk of the batch
            Expr.Var at = s.let(s.fresh("pat"), mul(add(mul(slot, c(threads / sub)), group), c(unroll * rpw * sub / 2)));
            for (int round = 0; round * sub < count; round++) {
                int r0 = round * sub;
                java.util.function.Consumer<K.Body> copy = cs -> {
                    Expr.Var f = cs.let(cs.fresh("pf"), add(lane, c(r0)));
                    Expr.Var i = cs.let(cs.fresh("pi"), mod(div(f, c(perRow)), c(rpw)));
                    Expr.Var chunk = cs.let(cs.fresh("pch"), add(add(base, mul(div(f, c(rpw * perRow)), c(sub))), mul(mod(f, c(perRow)), c(8))));
                    Expr row = wholeTiles() ? add(firstRow(tile), i) : min(add(firstRow(tile), i), c(n - 1));
                    java.util.function.Consumer<K.Body> one = os -> os.asyncCopy(scales, add(at, mul(f, c(4))), scaleBuf, div(add(mul(row, c(groups)), chunk), c(2)), 4);
                    if (wholeBatches()) one.accept(cs);
                    else cs.ifThen(lt(chunk, c(chunks)), one);
                };
                if (r0 + sub <= count) copy.accept(s);
                else s.ifThen(lt(lane, c(count - r0)), copy);
            }
        }

        /**
         * Where the scales go through registers: loads batch {@code j}'s scales (f16, converted where used: a conversion
         * here would wait for the load) into {@code into}, by chunk and row, if the block has the batch (a chunk past the
         * row's end reads the row's first).
         */
        void loadScales(K.Body b, Expr j, Expr.Var[][] into) {
            b.ifThen(lt(j, batches), s -> {
                Expr.Var t = s.let(s.fresh("st"), tileOf(j));
                Expr.Var c0 = s.let(s.fresh("sc0"), chunkOf(j));
                Expr.Var first = s.let(s.fresh("srow"), firstRow(t));
                for (int u = 0; u < unroll; u++) {
                    Expr ci = wholeBatches() ? add(c0, c(sub * u)) : s.let(s.fresh("sci"), select(lt(add(c0, c(sub * u)), c(chunks)), add(c0, c(sub * u)), c(0)));
                    Expr.Var at = wholeTiles() ? s.let(s.fresh("sat"), add(mul(first, c(groups)), ci)) : null;
                    for (int i = 0; i < rpw; i++)
                        s.assign(into[u][i], load(scaleBuf, at != null ? add(at, c(i * groups)) : add(mul(min(add(first, c(i)), c(n - 1)), c(groups)), ci)));
                }
            });
        }
    }

    /**
     * When a ring's first {@code stages} batches are copied, in order: {@code beforeWait} as the block starts, before the
     * grid dependency's wait (with dependent launches while the previous kernel drains); {@code afterWait} right after the
     * wait, before x's loads (knob {@code after_wait}); {@code afterX} once x's first loads are issued, before any is used
     * (knob {@code after_x}): in flight through x's trip from the L2 but behind x's loads, where those after the wait go
     * ahead of them; the rest ({@link #afterPrologue}) once x is staged. No ring: all 0.
     */
    record FirstCopies(int stages, int beforeWait, int afterWait, int afterX) {
        static final FirstCopies NONE = new FirstCopies(0, 0, 0, 0);

        /**
         * From the knobs: after_wait and then after_x as asked, at most what leaves one batch before the wait; knob
         * before_wait where set, at most what those after leave; else all the others ({@code stages - 1} by default).
         */
        static FirstCopies of(int stages, int beforeWaitKnob, int afterWaitKnob, int afterXKnob) {
            if (stages == 0) return NONE;
            int afterWait = Math.min(afterWaitKnob, stages - 1);
            int afterX = Math.min(afterXKnob, stages - 1 - afterWait);
            int late = afterWait + afterX;
            return new FirstCopies(stages, beforeWaitKnob > 0 ? Math.min(beforeWaitKnob, stages - late) : stages - Math.max(late, 1), afterWait, afterX);
        }

        /** Copied once x is staged, as the main loop begins. */
        int afterPrologue() {
            return stages - beforeWait - afterWait - afterX;
        }

        /** A kernel name's mark for each knob off its default: {@code _bw}, {@code _aw}, {@code _ax} and the count. */
        String suffix() {
            return (beforeWait != of(stages, 0, afterWait, afterX).beforeWait ? "_bw" + beforeWait : "") + (afterWait > 0 ? "_aw" + afterWait : "")
                    + (afterX > 0 ? "_ax" + afterX : "");
        }
    }

    /**
     * The ring's arrays and the block's batch count; the copies of the first {@code first.beforeWait()} batches go out here,
     * the rest of the first {@code stages} by {@link Ring#issueAfterWait}, {@link Ring#issueAfterX} and {@link Ring#issueAfterPrologue}.
     */
    static Ring start(LaunchBuilder lb, K.Body b, Buffer data, Buffer scaleBuf, FirstCopies first, int threads, int rpw, int unroll, int sub,
                      int chunks, int k, int n, int blockRows, int tiles, Expr group, Expr lane, Scales how, boolean bulk) {
        int stages = first.stages();
        Shared words = lb.shared("wring", KType.U32X4, stages * threads * rpw * unroll);
        Shared scales = how == Scales.REGISTERS ? null : lb.shared("sring", KType.U32, stages * threads * rpw * unroll * how.bytes() / 4);
        Shared bars = bulk ? lb.shared("cbar", KType.U32X2, stages * (threads / sub)) : null;
        if (bulk) { // the subgroup's first lane sets up its barriers; its other lanes wait on them after the subgroup barrier
            b.ifThen(eq(lane, c(0)), s -> {
                for (int slot = 0; slot < stages; slot++) s.copyBarrierInit(bars, add(mul(c(slot), c(threads / sub)), group));
            });
            b.subgroupBarrier();
        }
        int iters = (chunks + sub * unroll - 1) / (sub * unroll);
        // the block's tiles: blockIdx.x, + gridDim.x, ... below tiles (a runtime may launch fewer blocks than the grid)
        Expr.Var mine = b.let("rtiles", select(lt(bid(0), c(tiles)), div(add(sub(c(tiles), bid(0)), sub(gdim(0), c(1))), gdim(0)), c(0)));
        Expr.Var batches = b.let("batches", mul(mine, c(iters)));
        Expr.Var[][] next = how != Scales.REGISTERS ? null : new Expr.Var[unroll][rpw];
        if (next != null)
            for (int u = 0; u < unroll; u++)
                for (int i = 0; i < rpw; i++) next[u][i] = b.let(b.fresh("nsc"), cast(KType.F16, f(0)));
        Ring ring = new Ring(words, scales, how, bars, data, scaleBuf, first, threads, rpw, unroll, sub, chunks, k / 32, iters, n, blockRows, batches, group, lane,
                tid(0), next);
        ring.issueRange(b, 0, first.beforeWait());
        // the first batch's scales now too (weights: never written, so before the wait for the previous kernel)
        if (next != null) ring.loadScales(b, c(0), next);
        return ring;
    }

    /**
     * The main loop: batch {@code j} waited for and used (batches {@code j + 1 .. j + stages - 1} in flight), at a tile's
     * last chunk iteration its rows reduced and stored ({@link GemvHalfTile#finish}) and the sums started again, then batch
     * {@code j + stages} copied into the slot {@code j} leaves.
     */
    static void loop(K.Body b, Ring r, MatmulParts m, QuantScheme q, GemvHalfTile.Slice slice, GemvHalfTile.MainLoop loop, GemvHalfTile.StagedX xs,
                     Buffer bias, Buffer res, Buffer y) {
        int rpw = r.rpw(), unroll = r.unroll();
        Expr.Var[] acc = new Expr.Var[rpw];
        for (int i = 0; i < rpw; i++) acc[i] = b.let("acc" + i, f(0));
        r.issueAfterPrologue(b);
        Expr.Var j = var("j", KType.I32);
        // with an early trigger: the iteration by whose start the block's last batch has been copied (the first, where the
        // copies before the loop were all of them)
        Expr.Var lastIssue = loop.triggerEarly() ? b.let("last_issue", max(sub(r.batches(), c(r.stages())), c(0))) : null;
        b.forRange(j, c(0), r.batches(), c(1), 1, s -> {
            // every weight byte of the block is in flight: the next kernel may launch, its blocks taking the
            // multiprocessors this grid leaves and copying their first batches while these arrive (block-uniform)
            if (lastIssue != null) s.ifThen(eq(j, lastIssue), t -> t.gridDependency(Stmt.GridDependency.Kind.TRIGGER));
            // scales through registers: this batch's were loaded a batch ago; the next batch's go out now
            Expr.Var[][] regScales = null;
            if (r.nextScales() != null) {
                regScales = new Expr.Var[unroll][rpw];
                for (int u = 0; u < unroll; u++)
                    for (int i = 0; i < rpw; i++) regScales[u][i] = s.let(s.fresh("csc"), r.nextScales()[u][i]);
                r.loadScales(s, add(j, c(1)), r.nextScales());
            }
            if (r.bulk()) s.copyBarrierWait(r.bars(), r.bar(mod(j, c(r.stages()))), mod(div(j, c(r.stages())), c(2)));
            else s.asyncWait(r.stages() - 1);
            // pieces: the other lanes' copies of this batch's scales have landed too
            if (r.pieces()) s.subgroupBarrier();
            Expr.Var c0 = s.let("c0", r.chunkOf(j));
            Expr.Var slot = s.let("slot", mod(j, c(r.stages())));
            Expr.Var[] ok = new Expr.Var[unroll], ci = new Expr.Var[unroll];
            Expr.Var[][] w = new Expr.Var[unroll][rpw], scale = new Expr.Var[unroll][rpw];
            for (int u = 0; u < unroll; u++) {
                // where the batches are whole every chunk exists: no check, no select (GemvHalfTile reads ok as a condition)
                ok[u] = s.let(s.fresh("ok"), r.wholeBatches() ? eq(c(0), c(0)) : lt(add(c0, c(r.sub() * u)), c(r.chunks())));
                ci[u] = s.let(s.fresh("ci"), r.wholeBatches() ? add(c0, c(r.sub() * u)) : select(ok[u], add(c0, c(r.sub() * u)), c(0)));
                // the chunk's scale is the high half of the word for an odd chunk: shifted down by 16, no branch
                Expr.Var half = r.scales() == null ? null : s.let(s.fresh("sh"), shl(and(cast(KType.U32, ci[u]), u(1)), u(4)));
                // a chunk past the row's end was not copied: its slot is read only where the chunk exists
                for (int i = 0; i < rpw; i++) {
                    w[u][i] = s.let(s.fresh("wv"), new Expr.Pack(KType.U32X4, List.of(u(0), u(0), u(0), u(0))));
                    scale[u][i] = s.let(s.fresh("sc"), regScales != null ? cast(KType.F32, regScales[u][i]) : f(0));
                }
                int uu = u;
                s.ifThen(ok[u], t -> {
                    for (int i = 0; i < rpw; i++) {
                        Expr at = r.entry(slot, uu, i);
                        t.assign(w[uu][i], sload(r.words(), at));
                        if (r.scales() == null) continue;
                        Expr.Var sw = t.let(t.fresh("sw"), sload(r.scales(), r.scaleEntry(slot, uu, i)));
                        t.assign(scale[uu][i], cast(KType.F32, halfOf(shr(sw, half), false)));
                    }
                });
            }
            GemvHalfTile.Batch batch = new GemvHalfTile.Batch(ok, ci, w, scale);
            for (int u = 0; u < unroll; u++) GemvHalfTile.accumulate(s, q, loop, xs, r.chunks(), batch, u, acc);
            s.ifThen(eq(mod(j, c(r.iters())), c(r.iters() - 1)), t -> {
                Expr.Var row0 = t.let("row0", r.firstRow(r.tileOf(j)));
                GemvHalfTile.finish(t, m, row0, acc, slice, r.sub(), r.n(), loop, bias, res, y);
                for (int i = 0; i < rpw; i++) t.assign(acc[i], f(0));
            });
            // pieces, bulk copies: the lanes' reads of this slot are done before another lane's copies overwrite it
            if (r.pieces() || r.bulk()) s.subgroupBarrier();
            r.issue(s, add(j, c(r.stages())));
        });
    }
}
