package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Shared;
import jmlc.compiler.kernel.Stmt;
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
 * Decode attention (one query per head), flash-decoding style, in two kernels. (Merging the
 * splits in the last block of the first kernel instead, with a fence and an atomic count, was
 * measured slower on an H100: the merge then runs on one block per KV head at the kernel's tail;
 * on the H200, 2026-12-04, CUDA 612.5 -> 592.2 tok/s and Vulkan, where a dispatch boundary costs
 * twice a CUDA graph's, 510.7 -> 511.3: no gain either, so it was not kept.)
 *
 * <p>{@code partial}: grid (KV head, split); a block reads the positions of its split of the cache
 * once for all {@code group = H / nKv} query heads that share the KV head. Each warp takes
 * {@code keys} consecutive positions a step, the warps' steps interleaved: lanes hold slices of the
 * head dimension, shuffle reductions give the scores (the keys' loads and reductions in flight
 * together), and a running max and sum keep the softmax stable (online softmax, one rescale a step). Warps merge in shared
 * memory; the block writes {@code (max, sum, acc[hd])} per query head and split.
 * {@code combine}: one block per query head, a thread per dim, rescales and sums the splits ({@link AttentionDecodeMerge},
 * which also holds the merge of knob {@code cluster}).
 *
 * <p>The split count is fixed when the program is made (in the partial kernel an open knob,
 * {@link Expr.Knob}: a Vulkan specialization constant, so the tuner's split counts share a
 * shader module), so a captured decode step replays at any position; each split's share of the context is computed in the kernel from the current length
 * ({@code ceil(len / splits)} positions), so every split has work at any position. Splits left
 * without positions (when len < splits) write an empty partial.
 *
 * <p>Knob {@code kv_prefetch} (CUDA sm_90+; on with one split, off with several): a block reads the position and
 * computes its split's range before it waits for the kernel before it (earlier steps wrote the position), and where its
 * share of the context is at most that many loop steps, asks the L2 there for its cached rows of K and of V (one bulk
 * prefetch each) while the qkv GEMV streams its last weights.
 *
 * <p>Where q comes from a {@code rope_kv_append} (knob {@code fuse_rope}, on by default), the
 * partial kernel does that node's work too, and the node gets no kernel: each block rotates its
 * query heads' q straight from the qkv row, and the block whose split holds the new position
 * rotates k, writes it and v into the caches, and meets its threads at a barrier before reading
 * them. That saves a launch and a kernel boundary per layer (32 on a 7B model).
 */
public final class AttentionDecodeRule implements ScheduleRule {
    static final int WARPS = 4, SPLITS = 32;
    /**
     * Positions a warp scores a step. H200, Llama-2-7B q4f16_1, 2026-12-03 (bench/knob-compare.sh, one run):
     * the attention at position 256 6.6 -> 5.9 us with 2 (6.1 with 4); decode 605.9 -> 614.3 tok/s by the
     * seed protocol, 508.5 -> 544.5 generating 3000 tokens (mean position 1500; 4 keys the same).
     */
    static final int KEYS = 2;
    /**
     * A lane's dims 4 consecutive a load (knob {@code wide}): off. Timed on an H100, 2026-12-06 (knob-compare, one run,
     * with the split attention's prefetch on): decode 578.2 -> 578.9 tok/s, the kernel 6.7 -> 6.6 us: within noise.
     */
    static final int WIDE = 0;
    /**
     * Loop steps of its share of the cache (warps x keys positions each) a block asks of the L2 before it waits for the
     * kernel before it, where its whole share is that short (knob {@code kv_prefetch}; bulk L2 prefetches and
     * programmatic dependent launch): off for the split attention, {@link #ONE_SPLIT_KV_PREFETCH} with one split.
     * Measured on H100s, 2026-12-06, Llama-2-7B q4f16_1 (bench/short-context-sweep.sh, one captured step a program,
     * two leases): the one-block attention's step was 0.6 to 1.3% faster at every position from 0 to 4000 with 1, 2 or 4
     * steps; the split attention's 0.8 to 1.1% faster up to position 256 but 1.4% slower at 512, 2.1% at 1024 and 4%
     * at 4000 (with the bound at 2 steps, where no prefetch is issued from 512 on: not the prefetch's traffic; there the
     * kernel differs only in reading the position before the wait and in the branches it does not take. Cause not
     * found: registers are the same, 32, and so is the loop's PTX). End to end with
     * the split attention's prefetch on: the seed protocol's decode 569.9 -> 576.4 tok/s (7B), 514.3 -> 520.2 (8B),
     * 315.8 -> 318.8 (13B), but generating 3000 tokens 497.2 -> 488.3.
     */
    static final int KV_PREFETCH = 0, ONE_SPLIT_KV_PREFETCH = 2;
    /**
     * Knob {@code cluster} (CUDA sm_90+, 2 to 8 splits): the splits of a KV head run as one thread block cluster and
     * merge through distributed shared memory instead of a combine kernel. Each block leaves its split's (max, sum,
     * acc) in its own shared memory; after a cluster barrier, block {@code s} of the cluster merges every split's
     * share of the (query head, dim) pairs it takes, reading the others' shared memory by rank, and writes the output;
     * a second barrier keeps every block's shared memory alive until the cluster has read it. Saves the combine's
     * launch and its round trip through memory (1.7 us a layer on an H100, 2026-12-07) where the merge in the last
     * block to finish (a fence and an atomic count) lost. Timed on an H100 (2026-12-07, bench/RESULTS.md), it does not
     * pay: 8 clustered splits save 0.9 us a layer against 8 splits and a combine, but tie the default 32 (7B decode 576.5
     * against 577.3 tok/s), and lose 7% on Llama-3-8B (four query heads a KV head: 10.1 against 7.2 us inside the graph,
     * though 7.1 against 8.4 us with each kernel alone); fewer splits are slower still. So off, and the tuner does not try it.
     */
    static final int CLUSTER = 0, MAX_CLUSTER = 8;
    /**
     * Knob {@code kv_ahead}: 1 pipelines a warp's loop one step ahead: the next step's K and V rows are loaded into
     * registers before the current step's are used, and the first step's before the grid dependency's wait (the rows
     * before the new position, which earlier steps wrote; the new position's row, which this step writes, once it is
     * appended). Why: at the bench's positions a block's whole share is one or two loop steps, so the partial kernel is a
     * chain of trips: the wait, q from the L2, then K and V from the DRAM (4.8 us a layer on an H100 for about 1.3 us of
     * bytes, 2026-12-07); kv_prefetch only asked the L2 for the rows. Not yet measured on a GPU (2026-12-08): off, judged
     * end to end (bench/issue12-lease.sh asks it).
     */
    static final int KV_AHEAD = 0;

    @Override
    public String name() {
        return "attention_decode";
    }

    /** What distinguishes one attention node's knobs from another's: heads, KV heads, head size, context, cache type. */
    public static String shape(Node n) {
        Op.Attention a = (Op.Attention) n.op();
        return "h" + a.nHeads() + "_kv" + a.nKvHeads() + "_d" + a.headDim() + "_c" + n.input(1).type().shape().dim(1).size() + "_" + n.input(1).type().dtype();
    }

    /** The signature of the decode attention node {@code n}'s knobs ({@code warps}, {@code splits}, {@code keys}, {@code fuse_rope}). */
    public static KernelSignature signature(Node n, ScheduleContext ctx) {
        return ctx.signature(KIND, shape(n));
    }

    public static final String KIND = "attention_decode";

    /** The knobs of the decode attention {@code n}: warps a block, splits of the context, whether it absorbs rope_kv_append. */
    static KnobSpace space(Node n, ScheduleContext ctx) {
        return space(n, ctx.target());
    }

    static KnobSpace space(Node n, jmlc.compiler.target.Target target) {
        int ctxLen = (int) n.input(1).type().shape().dim(1).size(), sub = target.caps().subgroupSize();
        Op.Attention a = (Op.Attention) n.op();
        int hd = a.headDim(), group = a.nHeads() / a.nKvHeads();
        int maxThreads = target.caps().maxThreadsPerBlock();
        // a lane's dims consecutive, 4 a load (8 bytes of f16; of int8 a word and one scale, where dims a subgroup apart
        // take a load and a scale each), where the head is whole loads a lane. Off by default: not yet timed on a GPU
        boolean wideFits = KvCacheAccess.fourALane(n.input(1).type(), sub);
        return new KnobSpace(new KernelSignature(KIND, shape(n), target))
                .add(Knob.oneOf("warps", WARPS, "subgroups a block (each takes every warps-th position)", 1, 2, 4, 8, 16, 32).tryOnly(2, 4, 8))
                .add(Knob.range("splits", Math.min(SPLITS, ctxLen), 1, Math.min(ctxLen, 1024), "blocks sharing a KV head's context (the combine merges them 32 at a time)", 8, 16, 32, 64, 128))
                .add(Knob.range("keys", KEYS, 1, 8, "positions a subgroup scores a loop step (loads and reductions in flight together)", 1, 2, 4))
                .add(Knob.oneOf("fuse_rope", 1, "1: the attention rotates q and appends k, v itself; 0: rope_kv_append runs as its own kernel", 0, 1))
                .add(wideFits ? Knob.oneOf("wide", WIDE, "1: a lane reads 4 consecutive dims of a key in one load (8 bytes of f16, a word of int8); 0: dims a subgroup apart, a load each", 0, 1)
                        : Knob.oneOf("wide", 0, "4 dims a load: not for this head size and subgroup width, or cache type", 0))
                .add(kvPrefetchable(n, target)
                        ? Knob.range("kv_prefetch", KV_PREFETCH, 0, ctxLen,
                                "loop steps (warps x keys positions each) of its share of the cache, K and V before the new position, a block asks of the L2 "
                                        + "before it waits for the kernel before it, where its whole share is no longer; 0: none", 0, 1, 2, 4)
                                // the tuner replays one kernel at a time, where nothing runs before the wait for the prefetch to
                                // overlap (H100, 7B at position 256: 6.4 us without, 6.7 with); judged end to end instead
                                // (bench/knob-compare.sh --decode, bench/short-context-sweep.sh --attention)
                                .tryOnly(KV_PREFETCH)
                        : Knob.oneOf("kv_prefetch", 0, "needs bulk L2 prefetch, programmatic dependent launch and cache rows of whole 16-byte units", 0))
                .add(target.caps().clusters()
                        ? Knob.oneOf("cluster", CLUSTER, "1: a KV head's splits (2 to " + MAX_CLUSTER + ") run as one thread block cluster and merge through its "
                                + "distributed shared memory, no combine kernel; 0: a combine kernel merges them", 0, 1).tryOnly(CLUSTER)
                        : Knob.oneOf("cluster", 0, "needs thread block clusters (CUDA sm_90+)", 0))
                .add(Knob.oneOf("kv_ahead", KV_AHEAD, "1: a warp's next loop step's K and V rows loaded before its current one is used, the "
                        + "first step's before the grid dependency's wait (the new position's row once appended); 0: a step's rows loaded as it begins", 0, 1)
                        // judged end to end, as kv_prefetch: alone nothing runs before the wait for the first rows to overlap
                        .tryOnly(KV_AHEAD))
                .require("a cluster of 2 to " + MAX_CLUSTER + " splits", v -> v.getOrDefault("cluster", 0) == 0 || (v.get("splits") >= 2 && v.get("splits") <= MAX_CLUSTER))
                .require("warps x " + sub + " <= " + maxThreads + " threads a block", v -> v.get("warps") * sub <= maxThreads)
                .require("the warps' partial sums in shared memory (warps x group x head dim floats) within " + target.caps().maxSharedBytes() + " bytes",
                        v -> 4L * v.get("warps") * (2 + hd) * group <= target.caps().maxSharedBytes())
                .require("splits at most " + maxThreads + " (a block's threads: the merge once had a thread a split; the combine now has one a dim)",
                        v -> Math.max(sub, v.get("splits")) <= maxThreads);
    }

    /**
     * Whether the decode attention {@code n} on {@code target} can ask the L2 for its cache rows before it waits
     * (knob {@code kv_prefetch}): bulk prefetches, grid dependencies, and a row's values whole 16-byte units.
     */
    static boolean kvPrefetchable(Node n, jmlc.compiler.target.Target target) {
        return target.caps().bulk() && target.caps().gridDependency() && KvCacheAccess.rowBytes(n.input(1).type()) % 16 == 0;
    }

    /**
     * The {@code rope_kv_append} node whose work the decode attention {@code att} takes over: the
     * one that makes its q (read by nothing else), its caches, from the same position. Null when
     * there is none or the {@code fuse_rope} knob is 0.
     */
    static Node absorbedRope(Node att, ScheduleContext ctx) {
        if (!ctx.decode() || !(att.op() instanceof Op.Attention)) return null;
        Node r = ctx.graph().producer(att.input(0));
        if (r == null || !(r.op() instanceof Op.RopeKvAppend)) return null;
        if (att.input(1) != r.output(1) || att.input(2) != r.output(2) || att.input(3) != r.input(3)) return null;
        if (ctx.graph().users(r.output(0)).size() != 1 || ctx.graph().outputs().contains(r.output(0))) return null;
        return ctx.peek(space(att, ctx)).get("fuse_rope") != 0 ? r : null;
    }

    /** True when the decode attention reading {@code rope}'s q does its work ({@link #absorbedRope}). */
    static boolean absorbs(Node rope, ScheduleContext ctx) {
        for (Node u : ctx.graph().users(rope.output(0))) if (absorbedRope(u, ctx) == rope) return true;
        return false;
    }

    /**
     * The knobs of the decode attention {@code n} for short contexts ({@code ShortContextDecode}): its
     * {@code tuned} knobs with one split and as many warps as the target's block and shared memory
     * allow (32 on most GPUs), so one block per KV head scores every position and writes the output,
     * and the program needs no combine kernel; with {@link #ONE_SPLIT_KV_PREFETCH} loop steps of rows
     * prefetched where the target can.
     */
    public static Map<String, Integer> oneSplit(Node n, jmlc.compiler.target.Target target, Map<String, Integer> tuned) {
        KnobSpace space = space(n, target);
        Map<String, Integer> base = new java.util.LinkedHashMap<>(space.resolve(tuned));
        base.put("splits", 1);
        base.put("cluster", 0);
        base.put("kv_prefetch", kvPrefetchable(n, target) ? ONE_SPLIT_KV_PREFETCH : 0);
        for (int warps = 32; warps >= 1; warps /= 2) {
            base.put("warps", warps);
            if (space.valid(base)) return base;
        }
        throw new IllegalStateException(space.signature() + ": no warp count is valid with one split");
    }

    @Override
    public Optional<List<KernelCall>> apply(Node n, ScheduleContext ctx) {
        if (!(n.op() instanceof Op.Attention a) || !ctx.decode()) return Optional.empty();
        int hd = a.headDim(), nH = a.nHeads(), nKv = a.nKvHeads(), group = nH / nKv;
        int ctxLen = (int) n.input(1).type().shape().dim(1).size();
        int warp = ctx.caps().subgroupSize();
        int dpl = (hd + warp - 1) / warp; // head dims per lane
        if (group * dpl > 64) return Optional.empty(); // too many registers per lane for this schedule
        KnobSpace space = space(n, ctx);
        Map<String, Integer> v = ctx.choose(space);
        String sig = space.signature().key();
        Node rope = absorbedRope(n, ctx);
        RopeSpec spec = rope == null ? null : ((Op.RopeKvAppend) rope.op()).spec();
        int warps = v.get("warps"), splits = v.get("splits"), keys = v.get("keys"), wide = v.get("wide"), kvPrefetch = v.get("kv_prefetch");
        boolean ahead = v.getOrDefault("kv_ahead", KV_AHEAD) == 1;
        boolean clustered = v.getOrDefault("cluster", 0) == 1;

        String scratchId = sig + "_partials";
        long partialFloats = (long) nH * splits * (hd + 2);

        // ---- partial kernel ----
        String ropeTag = spec == null ? "" : "_rope" + spec.style().name().toLowerCase();
        boolean single = splits == 1; // one block per KV head: it writes the output itself, no combine
        LaunchBuilder lb = ctx.launch(sig + "_w" + warps + "s" + splits + (keys == 1 ? "" : "k" + keys) + (wide == 1 ? "v" : "") + (kvPrefetch > 0 ? "p" + kvPrefetch : "") + (ahead ? "a" : "") + ropeTag
                        + (single ? "_single" : clustered ? "_cluster" : "_partial"),
                (single ? "per kv head: online-softmax attention of its " : "per (kv head, split): online-softmax partial attention of its ") + group + " query heads"
                        + (clustered ? ", the splits of a kv head a cluster merging through its shared memory" : "")
                        + (spec == null ? "" : "; q and the new k rotated here, k and v appended by the split holding pos"));
        lb.block(warps * warp).grid(c(nKv), c(splits)).knob("warps", warps).knob("splits", splits).knob("keys", keys);
        if (clustered) lb.knob("cluster", 1);
        if (kvPrefetch > 0) lb.knob("kv_prefetch", kvPrefetch);
        if (wide == 1) lb.knob("wide", 1);
        if (ahead) lb.knob("kv_ahead", 1);
        // fused: q rows come rotated from qkv = [q heads | k heads | v heads], and the caches are written
        Buffer q = lb.input(spec == null ? "q" : "qkv", spec == null ? n.input(0) : rope.input(0));
        KvCacheAccess kc = KvCacheAccess.of(lb, "k_cache", n.input(1), spec != null), vc = KvCacheAccess.of(lb, "v_cache", n.input(2), spec != null);
        Buffer pos = lb.input("pos", n.input(3));
        Buffer table = spec == null ? null : lb.constant("cossin", ElementwiseRule.ropeTableId(spec, ctxLen), ElementwiseRule.ropeTable(spec, ctxLen));
        Buffer part = single || clustered ? lb.output("out", n.output()) : lb.scratch("partial", scratchId, KType.F32, partialFloats);
        // clustered: this split's (max, sum, acc[hd]) per query head of the group, read by the cluster's other blocks
        Shared split = clustered ? lb.shared("split_part", KType.F32, group * (hd + 2)) : null;
        Shared sm = lb.shared("warp_m", KType.F32, warps * group);
        Shared sl = lb.shared("warp_l", KType.F32, warps * group);
        Shared sacc = lb.shared("warp_acc", KType.F32, warps * group * hd);
        K.Body b = lb.body;
        // with kv_prefetch or kv_ahead, what comes before the wait reads only what earlier steps wrote (pos, the cached rows)
        boolean early = kvPrefetch > 0 || ahead && ctx.caps().gridDependency();
        if (early) b.gridDependency(Stmt.GridDependency.Kind.TRIGGER);
        Expr.Var g = b.let("g", bid(0));
        Expr.Var sp = b.let("sp", bid(1));
        Expr.Var w = b.let("w", div(tid(0), c(warp)));
        Expr.Var lane = b.let("lane", mod(tid(0), c(warp)));
        Expr.Var len = b.let("len", add(load(pos, c(0)), c(1)));
        // splits only enters arithmetic here (never a loop's shape): a specialization constant on Vulkan
        Expr.Knob nSplits = knob("splits", splits);
        Expr.Var chunk = b.let("chunk", div(add(len, sub(nSplits, c(1))), nSplits));
        Expr.Var start = b.let("start", mul(sp, chunk));
        Expr.Var end = b.let("end", min(len, add(start, chunk)));
        if (kvPrefetch > 0) prefetchCachedRows(b, kc, vc, g, chunk, start, end, len, kvPrefetch * warps * keys, ctxLen, hd, warps > 1 ? warp : 0);
        Expr.Var aheadPos = ahead ? b.let("new_pos", sub(len, c(1))) : null;
        // lane l holds dims l, l + warp, ... (a warp's loads of one dim index contiguous); with the knob wide, dims
        // dpl·l .. dpl·l + dpl − 1, 4 a load (8 bytes of an f16 cache; of an int8 one a word and a scale)
        boolean words = wide == 1 && KvCacheAccess.fourALane(n.input(1).type(), warp);
        java.util.function.IntFunction<Expr> dim = i -> KvCacheAccess.laneDim(lane, i, dpl, warp, words);
        StepRows rows = new StepRows(kc, vc, g, ctxLen, hd, dpl, keys, words, dim);
        // kv_ahead: the warp's first step's rows, those before the new position now (earlier steps wrote them)
        Expr.Var t0 = ahead ? b.let("t0", add(start, mul(w, c(keys)))) : null;
        Expr.Var[][][] next = ahead ? rows.declare(b) : null;
        if (ahead) rows.loadStep(b, t0, end, next, at -> lt(at, aheadPos));
        if (early) b.gridDependency(Stmt.GridDependency.Kind.WAIT);
        Expr.Var newPos = aheadPos != null || spec == null ? aheadPos : b.let("new_pos", sub(len, c(1)));
        if (spec != null) {
            // the split holding the new position appends its k (rotated) and v, then all threads meet
            Expr kIn = mul(add(c(nH), g), c(hd)), vIn = mul(add(c(nH + nKv), g), c(hd));
            Expr row = mul(add(mul(g, c(ctxLen)), newPos), c(hd));
            b.ifThen(land(ge(newPos, start), lt(newPos, end)), x -> {
                if (!kc.int8()) {
                    Expr.Var e = var("e", KType.I32);
                    x.forRange(e, tid(0), c(hd), c(warps * warp), 0, y -> {
                        Expr.Var slot = y.let("slot", add(row, e));
                        kc.store(y, slot, RopeKvAppendRule.rotatedElement(y, spec, q, kIn, e, newPos, table));
                        vc.store(y, slot, load(q, add(vIn, e)));
                    });
                } else {
                    // a thread per quantization group of the new k row, then of the v row. (A thread an element, the
                    // group's largest magnitude by shuffles, was tried: H200, Llama-2-7B, one step at position 0
                    // 1.628 -> 1.598 ms through CUDA but at 4000 2.346 -> 2.639, the whole kernel slower; not kept)
                    int groups = hd / kc.group();
                    Expr.Var gi = var("gi", KType.I32);
                    x.forRange(gi, tid(0), c(2 * groups), c(warps * warp), 0, y -> {
                        Expr.Var first = y.let("first", mul(mod(gi, c(groups)), c(kc.group())));
                        y.ifThen(lt(gi, c(groups)), z -> kc.storeGroup(z, add(row, first),
                                j -> RopeKvAppendRule.rotatedElement(z, spec, q, kIn, add(first, c(j)), newPos, table)));
                        y.ifThen(ge(gi, c(groups)), z -> vc.storeGroup(z, add(row, first), j -> load(q, add(vIn, add(first, c(j))))));
                    });
                }
            });
            b.barrier();
        }
        // kv_ahead: the first step's rows from the new position on (appended above, or by the rope kernel before), where
        // they are the split's own: a split past the context (its last row the new one, another block's) reads nothing
        if (ahead) rows.loadStep(b, t0, end, next, at -> land(ge(at, newPos), ge(at, start)));
        // q slices, running max/sum/acc per query head of the group
        Expr.Var[][] qv = new Expr.Var[group][dpl];
        Expr.Var[][] acc = new Expr.Var[group][dpl];
        Expr.Var[] m = new Expr.Var[group], l = new Expr.Var[group];
        for (int h = 0; h < group; h++) {
            m[h] = b.let("m" + h, f(Float.NEGATIVE_INFINITY));
            l[h] = b.let("l" + h, f(0));
            for (int i = 0; i < dpl; i++) {
                Expr d = dim.apply(i);
                int hh = h;
                Expr qBase = mul(add(mul(g, c(group)), c(hh)), c(hd));
                Expr dd = min(d, c(hd - 1));
                Expr qd = spec == null ? load(q, add(qBase, dd)) : RopeKvAppendRule.rotatedElement(b, spec, q, qBase, dd, newPos, table);
                qv[h][i] = b.let("q" + h + "_" + i, select(lt(d, c(hd)), qd, f(0)));
                acc[h][i] = b.let("acc" + h + "_" + i, f(0));
            }
        }
        // warp w scores positions start + w·keys .. + keys-1, then warps·keys further on: the keys' loads and
        // reductions in flight together, one rescale of the running sums a step; a key past the split's end
        // reads the split's last position and weighs 0
        Expr.Var t = var("t", KType.I32);
        b.forRange(t, add(start, mul(w, c(keys))), end, c(warps * keys), 1, x -> {
            List<Expr.Var> ok = new ArrayList<>(), sc = new ArrayList<>();
            List<List<Expr.Var>> vs = new ArrayList<>();
            // kv_ahead: this step's rows came a step ago; the next step's go out now (past the split's end, its last row)
            Expr.Var[][][] cur = ahead ? rows.copy(x, next) : null;
            if (ahead) rows.loadStep(x, add(t, c(warps * keys)), end, next, null);
            for (int kk = 0; kk < keys; kk++) {
                Expr at = add(t, c(kk));
                if (keys > 1) ok.add(x.let(x.fresh("ok"), lt(at, end)));
                Expr.Var[][] kv = ahead ? cur[kk] : rows.let(x, keys == 1 ? t : rows.position(t, kk, end));
                List<Expr.Var> ks = List.of(kv[0]), vk = List.of(kv[1]);
                vs.add(vk);
                for (int h = 0; h < group; h++) {
                    Expr.Var sv = x.let(x.fresh("s"), f(0));
                    for (int i = 0; i < dpl; i++) x.assign(sv, fma(qv[h][i], ks.get(i), sv));
                    sc.add(sv);
                }
            }
            for (Expr.Var sv : sc) Reductions.warpReduce(x, sv, warp, false);
            for (int h = 0; h < group; h++) {
                // scores of query head h: sc[kk · group + h]; a key past the end scores -inf (weight 0)
                List<Expr.Var> sh = new ArrayList<>();
                for (int kk = 0; kk < keys; kk++) {
                    Expr scaled = mul(sc.get(kk * group + h), f(a.scale()));
                    sh.add(x.let(x.fresh("sk"), keys == 1 ? scaled : select(ok.get(kk), scaled, f(Float.NEGATIVE_INFINITY))));
                }
                OnlineSoftmax.fold(x, m[h], l[h], List.of(acc[h]), sh, vs);
            }
        });
        // merge the warps through shared memory
        for (int h = 0; h < group; h++) {
            int hh = h;
            b.ifThen(eq(lane, c(0)), x -> {
                x.sstore(sm, add(mul(w, c(group)), c(hh)), m[hh]);
                x.sstore(sl, add(mul(w, c(group)), c(hh)), l[hh]);
            });
            for (int i = 0; i < dpl; i++) {
                Expr d = dim.apply(i);
                int ii = i;
                b.ifThen(lt(d, c(hd)), x -> x.sstore(sacc, add(mul(add(mul(w, c(group)), c(hh)), c(hd)), d), acc[hh][ii]));
            }
        }
        b.barrier();
        // thread j of the block finishes (query head, dim) pairs j, j + threads, ...
        int threads = warps * warp;
        Expr.Var j = var("j", KType.I32);
        b.forRange(j, tid(0), c(group * hd), c(threads), 0, x -> {
            Expr.Var h = x.let("h", div(j, c(hd)));
            Expr.Var d = x.let("d", mod(j, c(hd)));
            Expr.Var mm = x.let("mm", sload(sm, h));
            for (int ww = 1; ww < warps; ww++) x.assign(mm, K.max(mm, sload(sm, add(c(ww * group), h))));
            Expr.Var ll = x.let("ll", f(0));
            Expr.Var aa = x.let("aa", f(0));
            for (int ww = 0; ww < warps; ww++) {
                Expr.Var mw = x.let(x.fresh("mw"), sload(sm, add(c(ww * group), h)));
                // an idle warp has max -inf: weight 0, not exp(nan)
                Expr.Var sc = x.let(x.fresh("sc"), select(eq(mw, f(Float.NEGATIVE_INFINITY)), f(0), exp(sub(mw, mm))));
                x.assign(ll, fma(sload(sl, add(c(ww * group), h)), sc, ll));
                x.assign(aa, fma(sload(sacc, add(mul(add(c(ww * group), h), c(hd)), d)), sc, aa));
            }
            if (clustered) {
                x.sstore(split, add(mul(h, c(hd + 2)), add(d, c(2))), aa);
                x.ifThen(eq(d, c(0)), y -> {
                    y.sstore(split, mul(h, c(hd + 2)), mm);
                    y.sstore(split, add(mul(h, c(hd + 2)), c(1)), ll);
                });
                return;
            }
            Expr.Var qh = x.let("qh", add(mul(g, c(group)), h));
            if (single) {
                AttentionDecodeMerge.storeOutput(x, part, add(mul(qh, c(hd)), d), d, div(aa, ll), (group * hd) % threads == 0 && hd % 2 == 0);
                return;
            }
            Expr.Var base = x.let("pbase", mul(add(mul(qh, nSplits), sp), c(hd + 2)));
            x.store(part, add(base, add(d, c(2))), aa);
            x.ifThen(eq(d, c(0)), y -> {
                y.store(part, base, mm);
                y.store(part, add(base, c(1)), ll);
            });
        });
        if (clustered) AttentionDecodeMerge.inCluster(b, split, part, g, sp, splits, group, hd, threads);
        KernelCall partial = lb.build();
        if (single || clustered) return Optional.of(List.of(partial));
        return Optional.of(List.of(partial, AttentionDecodeMerge.combine(ctx, n, sig, scratchId, partialFloats, splits, nH, hd, warp)));
    }

    /**
     * Knob {@code kv_prefetch}: where the block's share of the context is at most {@code positions} (its first
     * kv_prefetch loop steps), its cached rows of K and of V (those before the new
     * position, len - 1, which this step writes) asked of the L2 in one bulk prefetch each (thread 0 and thread
     * {@code vThread}); the wait for the kernel before follows. Earlier steps wrote those rows and pos, and a captured
     * step starts after the last one ends, so they can be read before the wait (which follows). The block is launched
     * while the kernel before (the qkv GEMV) streams its last weights, so the attention's own reads meet the L2 rather
     * than the memory once it may start.
     */
    private static void prefetchCachedRows(K.Body b, KvCacheAccess kc, KvCacheAccess vc, Expr g, Expr chunk, Expr start, Expr end, Expr len,
                                           int positions, int ctxLen, int hd, int vThread) {
        // a share longer than the prefetch streams at the bandwidth: none (see KV_PREFETCH)
        Expr.Var rows = b.let("cached", select(le(chunk, c(positions)), sub(min(end, sub(len, c(1))), start), c(0)));
        Expr first = mul(add(mul(g, c(ctxLen)), start), c(hd));
        b.ifThen(land(gt(rows, c(0)), eq(tid(0), c(0))), x -> kc.prefetchRows(x, first, rows));
        b.ifThen(land(gt(rows, c(0)), eq(tid(0), c(vThread))), x -> vc.prefetchRows(x, first, rows));
    }
}
