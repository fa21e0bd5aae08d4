package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Capabilities;
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
import jmlc.compiler.target.Platform;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static jmlc.compiler.kernel.K.*;

/**
 * The decode GEMV for 4-bit weights with f16 scales (q4f16_1, q4_0), in f16 arithmetic, with the
 * matmul's prologue and epilogue fused in.
 *
 * <p>Prologue ({@link GemvHalfPrologue}): the block stages its input row once in shared memory as f16, applying the fused
 * prologue on the way (rms_norm: a block reduction of the row's squares first; silu·mul of the
 * gate and up halves), each thread's loads issued at once, and permuted so each 16-byte entry pairs the values a word's nibbles pair;
 * entry {@code (v, c)} holds word {@code v} of chunk {@code c} at {@code v · chunks + c}, so the
 * lanes of a subgroup, each on its own chunk, read consecutive entries (no shared-memory bank
 * conflicts; chunk-major, 4 words a chunk, it was a 4-way conflict on every read).
 * Main loop: each warp owns {@code rowsPerWarp} rows; a lane reads {@code vector} consecutive
 * u32 words (8 weights each) of every row, {@code unroll} chunks ahead, so a warp's loads are
 * contiguous and many are in flight; with {@code pipeline} the next chunks' loads are issued
 * before the current ones are used, so a warp never waits with nothing in flight (2: across tiles
 * too, the first batch before the prologue). {@code prefetch} pulls the block's weights into L2
 * first (line by line, or a bulk range per tile on sm_90); off by default, it cost 8% on an H200.
 * With {@code ksplit} above 1, that many subgroups share a tile's rows, each over every ksplit-th
 * stretch of chunks, and meet their partial sums in shared memory (more subgroups on a short matrix).
 * With {@code stages} above 0 (CUDA sm_80+) the weights travel through a shared-memory ring of asynchronous
 * copies instead of registers, {@code stages - 1} batches in flight, the first before the prologue ({@link GemvHalfRing}).
 * The x chunk is read once from shared memory for all the warp's rows. Dequantization is two weights per
 * instruction: {@code (w >> 4k) & 0x000F000F | 0x64006400} is the half2 {@code (1024 + q_k,
 * 1024 + q_k+4)}; one packed subtract of {@code 1024 + zero} gives the exact signed values
 * ({@code nibbles = 1} takes the odd nibbles in place, {@code w & 0x00F000F0 | 0x64006400} =
 * {@code 1024 + 16 q}, and one packed FMA by 1/16 less {@code 64 + zero} makes them exact: one
 * shift a word instead of three); packed FMAs multiply them with x; each chunk's f16 sum (one
 * quantization group at most) is scaled and accumulated in f32.
 * Epilogue: warp shuffles reduce, lane 0 adds bias and residual and writes.
 * This class makes the knobs, the launch and the prologue; {@link GemvHalfTile} a row tile's main
 * loop and epilogue.
 */
public final class GemvHalfRule implements ScheduleRule {
    /**
     * Defaults from the sweeps on an H200 and an H100 (bench/gpu-suite.sh sweep, now jmlc tune, on the Llama-2-7B
     * and 13B matrices, 2026-11-26, see bench/RESULTS.md): 8 warps, 16-byte loads (vector 4), four
     * row-chunks a batch with the next batch in flight (2026-12-03, below and LOADS_A_BATCH); 4 rows
     * per warp where that still gives two row tiles per SM, else 2 (on an H100,
     * 4 for 7B's 12288-row qkv took its decode step from 2.229 to 2.178 ms; 8 for the 22016-row
     * gate/up and 1 for the 4096-row matrices were slower); up to 4 blocks per SM
     * (2 per SM slowed the 5120-row matrices of 13B by a quarter on an H100), with the tiles dealt
     * evenly so no block runs an extra round.
     */
    static final int WARPS = 8, VECTOR = 4, UNROLL = 0;
    /**
     * Unroll 0 takes this many row-chunks a batch: one chunk of 4 rows, two of 2 (the 4096-row o and
     * down matrices of 7B and 8B, 5120 of 13B), registers as for 4 rows. Measured with
     * bench/knob-compare.sh on the H200 (2026-12-03): down 11.8 -> 10.4 us (7B), 14.4 -> 12.5 (8B),
     * 16.3 -> 15.2 (13B); o 5.6 -> 5.4 (7B, 8B), 7.3 -> 7.5 (13B); 2 chunks of 4 rows were 29% slower
     * on gate/up (the registers cost occupancy).
     */
    static final int LOADS_A_BATCH = 4;
    /**
     * Measured with bench/knob-compare.sh on the H200 (2026-12-03, Llama-2-7B q4f16_1, decode tok/s in
     * one run each): odd nibbles in place 491.2 -> 511.5; no L2 prefetch: prefetching the first tile
     * line by line, which the GEMV did since the H100 (2026-11), cost 8% (529.7 against 575.3), a bulk
     * prefetch of every tile 7% (535.0); then one chunk a batch with the next batch's loads issued
     * before the current one is used (pipeline 1, unroll 1): 576.4 -> 587.6 (two chunks a batch without
     * it had been the default; across tiles, pipeline 2, 568.5).
     */
    static final int NIBBLES = 1, PIPELINE = 1, PREFETCH = 0;
    /**
     * Vulkan's defaults: 16 subgroups a block, the first batch of weights loaded before the prologue
     * (pipeline 2). A Vulkan compiler takes no register bound (CUDA's launch bounds), and NVIDIA's gives
     * these kernels about 120 registers a thread where NVRTC keeps 64, so two blocks of 8 share a
     * multiprocessor where CUDA's has four; one block of 16 keeps as many warps resident and stages x
     * (and the norm) once a multiprocessor instead of twice. H200 through NVIDIA's Vulkan driver
     * (bench/knob-compare.sh, Llama-2-7B q4f16_1, one run, 2026-12-04): decode 450.1 tok/s with 8 warps,
     * 503.7 with 16, 510.8 with 16 and pipeline 2, 447.9 with 32; CUDA's 612 in the same session.
     */
    static final int VULKAN_WARPS = 16, VULKAN_PIPELINE = 2;
    /**
     * Subgroups a row tile: 1. Two (with 16 warps) took the 4096-row o and down matrices of 7B from 5.6
     * and 11.8 us to 5.2 and 10.6 and slowed the tall ones (H200, 2026-12-03); two chunks a batch
     * (LOADS_A_BATCH) does as well on down without the shared-memory meeting, so it is left to the tuner.
     */
    static final int KSPLIT = 1;
    /**
     * Where the target has programmatic dependent launch (CUDA sm_90+) and the row suits a ring: a ring of 4
     * batches ({@code stages}) with the early trigger, so a program of them launches as dependents and each
     * GEMV's first copies overlap the last bytes of the one before. Elsewhere weights in flight through
     * registers (0) and the trigger at the end. Measured end to end against the register loop as plain launches
     * (decode tok/s, bench/knob-compare.sh, 2026-12-05; bench/RESULTS.md): H200 Llama-2-7B 615.7 -> 635.5,
     * Llama-3-8B 567.8 -> 593.7, Llama-2-13B 350.6 -> 347.6; H100 Llama-3-8B 462.3 -> 492.4, Llama-2-13B
     * 279.6 -> 294.6; as this default (3aa0d72), `jmlc bench` on the H100: Llama-2-7B 538.9, 13B 294.7, 8B 491.9,
     * Llama-3-70B 64.1 against 60.9 with the register loop. Per kernel a ring is slower on the 4096- and 5120-row
     * matrices (the tuner replays one kernel at a time, where the trigger changes nothing: {@code jmlc tune}'s
     * decode-step stage judges it whole).
     * 3 stages were faster for 7B (H200 644.3, H100 545.5) and slower for the others.
     */
    static final int RING_STAGES = 4, RING_TRIGGER = 1;
    /**
     * Knob {@code trigger} 2: early in the register loop too (as a block's last row tile begins), so a program of register
     * loops launches as dependents the way a ringed one does. Not measured yet (2026-12-07); never a default.
     */
    static final int REGISTER_LOOP_TRIGGER = 2;
    /**
     * With a ring, how its batches' scales travel ({@link GemvHalfRing.Scales}): 2, copied once a subgroup in 16-byte pieces,
     * where K is a multiple of 256 (else 1, a word a lane beside the weights); 0 loads them into registers a batch ahead, the
     * ring a fifth smaller: 3 blocks an SM instead of 2 for the 4096-wide rows, yet decode 546.9 -> 511.9 on an H100
     * (Llama-2-7B, 2026-12-06). Pieces against words (bench/knob-compare.sh, H100, 2026-12-07, decode tok/s): with 4 rows a
     * subgroup 7B 567.8 -> 582.8, 8B 519.3 -> 522.3, 13B 315.1 -> 311.0 (Nsight Compute on 13B's gate/up: 4% more
     * instructions, 33.4 -> 34.6 us); with {@link #RING_ROWS_PER_WARP} 2, 7B 587.2, 8B 533.8, 13B 314.8, 70B 66.3 -> 66.7.
     */
    static final int RING_SCALES = 2;
    /**
     * Rows a subgroup owns with a ring (knob {@code rows_per_warp} 0): 2, two chunks a batch, where the register loop takes 4
     * for tall matrices. With the scales in pieces, on an H100 (bench/knob-compare.sh, 2026-12-07, decode tok/s, against 4 rows
     * on the tall matrices and words a lane): Llama-2-7B 568.0 -> 587.2, Llama-3-8B 519.3 -> 533.8, Llama-2-13B 315.2 -> 314.8,
     * Llama-3-70B 66.3 -> 66.7; 2 rows with words a lane 573.6, 527.8, 313.9 (7B's qkv 13.6 -> 12.4 us). Dealing a tile of
     * every matrix over all 264 slots (blocks 264, a block an SM where the tiles came out uneven) was slower on all three.
     */
    static final int RING_ROWS_PER_WARP = 2;
    /**
     * With a ring, of its first {@code stages} batches how many are copied right after the grid dependency's wait, before x
     * is staged (knob {@code after_wait}): 0, {@code stages - 1} before the wait and the last once x is staged. The copies
     * before the wait go out as a block starts, which with dependent launches is while the previous kernel drains, so they
     * may all have landed by the time the wait returns, and the multiprocessor reads nothing while its prologue loads x and
     * reduces the norm (0.17 ms of a Llama-2-7B step's 1.48 ms of GEMVs on an H100, bench/gemv-ablation.sh, 2026-12-07);
     * 1 or 2 keep a batch or two of copies going through the prologue. Measured slower (H100, 2026-12-07, decode tok/s,
     * bench/knob-compare.sh): Llama-2-7B 591.9 -> 571.8, Llama-3-8B 546.0 -> 536.6, Llama-2-13B 319.6 -> 309.3, and each
     * GEMV alone about 1 us slower: x's loads after the wait queue behind the copies in flight, one batch more ahead of
     * them costs what its bytes take ({@link #RING_BEFORE_WAIT} tries the other way round).
     */
    static final int RING_AFTER_WAIT = 0;
    /**
     * With a ring, how many of its first batches are copied before the grid dependency's wait (knob {@code before_wait}; 0:
     * {@code stages - 1}), the rest of the first {@code stages} once x is staged. Why fewer: a block's x loads after the wait
     * queue behind the copies it has in flight. after_wait 1 put one batch more in front of them and slowed each GEMV by
     * about 1 us even alone (H100, 2026-12-07, Llama-2-7B qkv 12.3 -> 13.3 us, down 12.9 -> 14.2). Fewer are slower end to
     * end (same card, bench/knob-compare.sh, decode tok/s): 1 before the wait Llama-2-7B 592.0 -> 562.1, Llama-3-8B
     * 545.5 -> 520.0, Llama-2-13B 318.7 -> 296.4; 2: 584.5, 540.2, 315.4. Alone the o GEMV gains (7B 6.7 -> 6.0 us) and
     * the tall ones lose (qkv 12.2 -> 13.1): the copies made while the previous kernel drains are worth more than x's wait.
     */
    static final int RING_BEFORE_WAIT = 0;
    /**
     * With a ring, of its first {@code stages} batches how many are copied once x's first loads after the grid dependency's
     * wait are issued, before any is used (knob {@code after_x}; 0: none, the last of them once x is staged). Why: with the
     * defaults the multiprocessor's copies made before the wait may all have landed when it returns, so nothing streams
     * while x comes from the L2 (about 1 us a GEMV, 0.17 ms of a Llama-2-7B step's 1.48 ms of GEMVs on an H100); after_wait
     * kept copies going but put them ahead of x's loads and cost 3.4%. Here x's loads go first and the copies stream behind
     * them. Not yet measured on a GPU (2026-12-08): off, judged end to end (bench/issue12-lease.sh asks it).
     */
    static final int RING_AFTER_X = 0;
    /**
     * With a ring, how its batches are copied (knob {@code ring_copy}, {@link GemvHalfRing}): 0, each lane its chunks with
     * {@code cp.async}; 1, a subgroup's first lane a copy a row with {@code cp.async.bulk} completing on a copy barrier (sm_90+,
     * K a multiple of 256). Why: x's loads after the wait queue behind the copies a block's lanes have in flight (see
     * {@link #RING_AFTER_WAIT}); the copy engine's copies do not take the lanes' load path, and a batch is 2 to 4
     * instructions a subgroup instead of 4.5 a lane. Measured on an H100 (2026-12-08, bench/knob-compare.sh, decode tok/s):
     * Llama-2-7B 591.7 -> 586.8, Llama-3-8B 545.5 -> 545.1, Llama-2-13B 318.4 -> 317.0, and with after_wait 1 as slow as with
     * cp.async (7B 571.4): x's wait is in the memory system, not the load path. Off; searched by the tuner (alone 7B's
     * gate/up 20.9 -> 20.6 us, its LM head 28.7 -> 28.1).
     */
    static final int RING_COPY = 0;

    /** Knob {@code ring_scales}' default for rows of {@code k}: {@link #RING_SCALES} where the pieces fit, else 1 (words). */
    static int ringScalesDefault(int k, Capabilities caps) {
        return RING_SCALES == 2 && !GemvHalfRing.Scales.piecesFit(k, caps.subgroupSize()) ? 1 : RING_SCALES;
    }
    /**
     * Where the target has integer dot products ({@code Capabilities.dot4}), knob {@code dot4} 1 stages x as signed bytes,
     * a scale a quantization group (as llama.cpp's MMVQ quantizes x for its 4-bit blocks), and a weight word's nibbles
     * meet it in two dot4 ({@link GemvHalfTile#accumulateDot4}): 4 instructions a word of 8 weights where the f16
     * products take 13, half the bytes of x read from shared memory. x rounded to 8 bits costs precision (Precision's
     * int8 bound). Off: on an H100 (2026-12-06, bench/knob-compare.sh) it took a third of gate/up's instructions away and
     * 4% of its time, slowed down (x of 11008 quantized by every block), and decode lost 2 to 3% (7B 546.9 -> 534.8, 8B
     * 503.5 -> 490.0, 13B 299.5 -> 289.5): the warps wait on their data, not on issue.
     */
    static final int DOT4 = 0;
    /**
     * The prologue's loads a wave ({@link GemvHalfPrologue}): 0, as many rounds as 64 values a thread allow. On an H100
     * (2026-12-06, decode tok/s, bench/RESULTS.md): against 1340416's prologue (a round at a time, x and g read again
     * after a norm's reduction; bench/baseline-compare.sh, 4200372) Llama-2-7B 552.2 -> 567.2, Llama-2-13B 303.2 -> 314.8,
     * Llama-3-8B 507.7 -> 510.1; against 1, 2 and 4 (bench/knob-compare.sh, 08b6f3b) 7B 565.7 against 553.2, 550.1, 549.7;
     * 13B 313.5 against 306.8, 302.9, 306.1; 8B 500.8 against 496.2, 495.8, 496.1.
     */
    static final int X_ROUNDS = 0;
    /**
     * Knob {@code x_coalesce}: 1 reads an f32 x row (a norm's, and its gain) as a subgroup's consecutive float4s, each lane's
     * word then assembled by one exchange with its neighbour ({@link GemvHalfPrologue}), where a lane's two float4s 32
     * bytes apart touch twice the L2 sectors they use (Nsight Compute, H100: 18% excess sectors on Llama-2-7B's qkv GEMV,
     * every block's x read after the wait at once). H100, 2026-12-07 (bench/knob-compare.sh, decode tok/s): Llama-2-7B
     * 591.9 -> 595.8, Llama-3-8B 546.0 -> 549.5, Llama-2-13B 319.6 -> 316.8; no default that wins everywhere, so off and
     * searched by the tuner.
     */
    static final int X_COALESCE = 0;

    @Override
    public String name() {
        return "gemv_f16";
    }

    /**
     * Shared memory the kernel stages: the x row as f16 (2 bytes a column), with a norm prologue one f32 a subgroup for
     * the block reduction (x·g stays in registers or is read again: {@link GemvHalfPrologue}); with {@code ksplit}
     * above 1, an f32 partial sum per subgroup and row it owns (at most 8).
     */
    static int sharedBytes(int k, boolean norm, int threads, int subgroup, int ksplit, boolean dot4) {
        return stagedXBytes(k, dot4) + (norm ? 4 * Math.max(1, threads / subgroup) : 0) + (ksplit > 1 ? 4 * 8 * Math.max(1, threads / subgroup) : 0);
    }

    /** With a ring of {@code stages} batches ({@link GemvHalfRing}): x as f16, a norm's f32 a subgroup, and the ring. */
    static int ringSharedBytes(int k, boolean norm, int threads, int subgroup, int stages, int rpw, int unroll, GemvHalfRing.Scales ringScales, boolean bulk, boolean dot4) {
        return stagedXBytes(k, dot4) + (norm ? 4 * Math.max(1, threads / subgroup) : 0) + GemvHalfRing.bytes(stages, threads, subgroup, rpw, unroll, ringScales, bulk);
    }

    /** Whether values {@code v} ask for bulk copies (knob {@code ring_copy} 1) where they can have them: sm_90+, rows a multiple of 256, {@code sub · unroll} of 8. */
    static boolean ringBulk(Map<String, Integer> v, int k, int unroll, Capabilities caps) {
        return v.getOrDefault("ring_copy", RING_COPY) == 1 && caps.bulk() && GemvHalfRing.bulkFits(k, caps.subgroupSize(), unroll);
    }

    /** The staged x row ({@link GemvHalfTile.StagedX}): 2 bytes a column in f16; with dot4 1 byte a column and 8 a group of 32. */
    static int stagedXBytes(int k, boolean dot4) {
        return dot4 ? k + 8 * (k / 32) : 2 * k;
    }

    /**
     * Rows a subgroup owns: the knob, or 0's rule: with a ring ({@code ring}) {@link #RING_ROWS_PER_WARP}; else 4 where that
     * still gives two row tiles per multiprocessor, else 2.
     */
    static int rowsPerWarp(int knob, int n, int groups, int multiprocessors, boolean ring) {
        return knob != 0 ? knob : ring ? RING_ROWS_PER_WARP : n >= 2 * multiprocessors * groups * 4 ? 4 : 2;
    }

    /** Chunks a batch: the knob, or 0's rule (four loads a batch: 4 / rows per subgroup, at least 1). */
    static int chunksPerBatch(int knob, int rpw) {
        return knob != 0 ? knob : Math.max(1, LOADS_A_BATCH / rpw);
    }

    /**
     * The knobs for weight {@code w}: subgroups per block, rows per subgroup (0: 4 where that still
     * gives two row tiles per multiprocessor, else 2), u32 words a lane loads at once (4, or the
     * largest that divides a row's words), chunks in flight, blocks (0: the row tiles dealt evenly
     * over at most 4 blocks per multiprocessor).
     */
    static KnobSpace space(ScheduleContext ctx, MatmulParts m) {
        int k = (int) m.k(), words = k / 8;
        // x is staged in shared memory beyond 48 KiB where the target lets a kernel opt in (CUDA: dynamic shared memory)
        int sub = ctx.caps().subgroupSize(), maxThreads = ctx.caps().maxThreadsPerBlock(), maxShared = ctx.caps().optInSharedBytes();
        boolean norm = m.prologue() instanceof Op.Prologue.RmsNorm, pairs = m.siluMulPairs();
        int vector = VECTOR;
        while (vector > 1 && words % vector != 0) vector /= 2;
        boolean vulkan = ctx.target().platform() == Platform.VULKAN;
        int warps = vulkan ? Math.max(1, Math.min(VULKAN_WARPS, maxThreads / sub)) : WARPS;
        KnobSpace space = new KnobSpace(ctx.signature("gemvh", GemvRule.shape(m.w())))
                .add(Knob.oneOf("warps", Integer.highestOneBit(warps), "subgroups per block", 1, 2, 4, 8, 16, 32).tryOnly(4, 8, 16))
                .add(Knob.oneOf("rows_per_warp", 0, "rows each subgroup owns (0: with a ring 2; else 4 for tall matrices, else 2)", 0, 1, 2, 4, 8).tryOnly(0, 2, 4, 8))
                .add(Knob.oneOf("vector", vector, "u32 words (8 weights each) a lane loads at once", 1, 2, 4).tryOnly(2, 4))
                .add(Knob.range("unroll", UNROLL, 0, 8, "chunks a batch (0: 4 / rows_per_warp, at least 1: four loads a batch)", 1, 2, 4))
                .add(Knob.oneOf("ksplit", KSPLIT, "subgroups sharing a row tile, each over every ksplit-th stretch of a row's chunks "
                        + "(their partial sums met in shared memory): more subgroups on a short matrix", 1, 2, 4))
                .add(Knob.range("blocks", 0, 0, 1 << 20, "persistent blocks (0: tiles dealt evenly over at most 4 per multiprocessor; the runtime deals them again "
                        + "over fewer where fewer fit the device at once)", 0,
                        ctx.caps().multiprocessors(), 2 * ctx.caps().multiprocessors(), 4 * ctx.caps().multiprocessors()))
                .add(Knob.range("per_sm", 0, 0, 32, "with blocks 0, the most blocks a multiprocessor the tiles are dealt over (0: as many as fit, "
                        + "up to 4 with a ring): fewer leave room beside them for the next kernel's blocks, which a dependent launch starts early",
                        // not searched: room beside costs the kernel it waits for more than the early start saves (H100, 2026-12-07:
                        // rings of 2 and 3 stages on the default's grids 14% and 8% slower end to end on Llama-2-7B, 13 to 16% for
                        // the 8B and 13B; the floor probe's reads 12 to 14% slower with room beside them, bench/RESULTS.md)
                        0))
                .require("vector divides the row's " + words + " words", v -> words % v.get("vector") == 0)
                .require("ksplit divides warps", v -> v.get("warps") % v.get("ksplit") == 0)
                .require("warps x " + sub + " <= " + maxThreads + " threads a block", v -> v.get("warps") * sub <= maxThreads)
                .require("staging the row fits " + maxShared + " bytes of shared memory", v -> v.getOrDefault("stages", 0) > 0
                        || sharedBytes(k, norm, v.get("warps") * sub, sub, v.get("ksplit"), v.getOrDefault("dot4", 0) == 1) <= maxShared)
                .require("rows_per_warp even for silu·mul pairs (a subgroup holds gate and up rows)", v -> !pairs || v.get("rows_per_warp") % 2 == 0);
        space.add(Knob.oneOf("nibbles", NIBBLES, "0: each nibble pair shifted down (3 shifts a word); 1: odd nibbles dequantized in place (1 shift a word)", 0, 1))
                .add(Knob.oneOf("pipeline", vulkan ? VULKAN_PIPELINE : PIPELINE, "loads a batch ahead (twice the registers): 0 no; 1 within a tile; 2 across tiles, "
                        + "the first batch before the prologue", 0, 1, 2))
                .add(Knob.oneOf("x_rounds", X_ROUNDS, "rounds of x words (one a thread a round) whose loads the prologue issues at once, a norm's x held in "
                        + "registers where all its rounds fit; 0: as many as 64 values a thread allow", 0, 1, 2, 4, 8)
                        // per kernel 0 was the fastest or tied on every matrix of 7B, 8B and 13B (H100): not searched
                        .tryOnly(X_ROUNDS))
                .add(Knob.oneOf("x_coalesce", X_COALESCE, "1: an f32 x row (a norm's, and its gain) read as a subgroup's consecutive 16 bytes a lane, "
                        + "each lane's 8 values then assembled by one exchange with its neighbour; 0: a lane's two float4s 32 bytes apart "
                        + "(twice the L2 sectors); moot for an f16 row and with dot4", 0, 1));
        if (ctx.caps().prefetchL2()) {
            // a bulk range starts and ends on 16 bytes: rows of the scales (2 bytes a group of 32) are, where K is a multiple of 256
            int[] values = ctx.caps().bulk() && k % 256 == 0 ? new int[] {0, 1, 2} : new int[] {0, 1};
            space.add(Knob.oneOf("prefetch", PREFETCH, "weights into L2 at the start: 0 none; 1 the first tile, line by line; "
                    + "2 every tile of the block, a bulk prefetch each (sm_90, K a multiple of 256)", values));
        }
        if (ctx.caps().asyncCopy()) {
            // the ring by default where its trigger pays (dependent launches), the defaults suit it and two blocks still
            // share a multiprocessor (as on every matrix measured; a row of 28672 would leave one: unmeasured)
            int ringBytes = ringBytes(Map.of("stages", RING_STAGES, "vector", vector, "ksplit", KSPLIT, "pipeline", vulkan ? VULKAN_PIPELINE : PIPELINE,
                    "prefetch", PREFETCH, "rows_per_warp", 0, "warps", Integer.highestOneBit(warps), "unroll", UNROLL, "dot4", ctx.caps().dot4() ? DOT4 : 0), m, ctx.caps());
            boolean ring = ctx.caps().gridDependency() && ringBytes >= 0 && 2 * (ringBytes + 1024) <= maxShared + 1024;
            space.add(Knob.oneOf("ring_scales", ringScalesDefault((int) m.k(), ctx.caps()), "with a ring: 1 each batch's scales copied into the ring beside its weights, a word a lane; 0 loaded "
                    + "into registers a batch ahead (the ring a fifth smaller); 2 copied once a subgroup in 16-byte pieces, a piece a lane, with subgroup "
                    + "barriers (K a multiple of 256; else as 1)", 0, 1, 2));
            if (ctx.caps().bulk())
                space.add(Knob.oneOf("ring_copy", RING_COPY, "with a ring: 0 each lane copies its chunks (cp.async); 1 a subgroup's first lane copies a row's "
                        + "chunks of a batch in one bulk copy, and its scales in another, completing on a copy barrier (cp.async.bulk, mbarrier; K a "
                        + "multiple of 256, subgroup times unroll of 8; else as 0)", 0, 1));
            space.add(Knob.oneOf("after_wait", RING_AFTER_WAIT, "with a ring: of its first stages batches, how many are copied right after the grid "
                    + "dependency's wait, before x is staged (0: stages - 1 before the wait, the last once x is staged; 1: the last right after the "
                    + "wait; 2: the last two)", 0, 1, 2)
                    // the tuner replays one kernel at a time, where the wait returns at once: judged end to end (as the trigger)
                    .tryOnly(RING_AFTER_WAIT));
            space.add(Knob.oneOf("after_x", RING_AFTER_X, "with a ring: of its first stages batches, how many are copied once x's first loads "
                    + "after the grid dependency's wait are issued, before any is used (behind x's loads, where after_wait's go ahead of them; "
                    + "0: none; 1: the last; 2: the last two)", 0, 1, 2)
                    // judged end to end, as after_wait
                    .tryOnly(RING_AFTER_X));
            space.add(Knob.oneOf("before_wait", RING_BEFORE_WAIT, "with a ring: how many of its first batches are copied before the grid "
                    + "dependency's wait, the rest of the first stages once x is staged (0: stages - 1)", 0, 1, 2, 3)
                    // judged end to end, as after_wait
                    .tryOnly(RING_BEFORE_WAIT));
            space.add(Knob.oneOf("stages", ring ? RING_STAGES : 0, "0: weights in flight in registers (pipeline); 2 to 8: each lane copies its batches of weights and "
                    + "scales into a shared-memory ring of this many (cp.async), stages - 1 in flight, the first before the prologue, where the other knobs suit "
                    + "a ring (vector 4, ksplit 1, pipeline 1, no L2 prefetch, K a multiple of 64, the ring and x in shared memory); else as 0", 0, 2, 3, 4, 5, 6, 8));
            if (ctx.caps().gridDependency())
                space.add(Knob.oneOf(jmlc.compiler.schedule.Program.EARLY_TRIGGER, ring ? RING_TRIGGER : 0, "where a block lets the next kernel launch (dependent launches): 0 once its rows are done; "
                                + "1 once its last copies are issued (with a ring; without one, as 0); 2 as 1, and without a ring as its last row tile begins", 0, 1, 2)
                                // the tuner replays one kernel at a time, where the trigger changes nothing: judged end to
                                // end (ModelTuning's decode-step stage, bench/knob-compare.sh); a program with it launches
                                // its kernels as programmatic dependents (Program.triggersEarly). Without a ring 1 is 0 as
                                // the kernel records it (asUsed); 2 triggers as a block's last row tile begins
                                .tryOnly(ring ? RING_TRIGGER : 0));
        }
        space.usedAs(values -> asUsed(values, m, ctx.caps()));
        if (ctx.caps().dot2()) space.add(Knob.oneOf("dot2", 1, "1: a chunk's products summed by v_dot2_f32_f16 into f32; 0: by packed f16 FMAs", 0, 1));
        if (ctx.caps().dot4())
            space.add(Knob.oneOf("dot4", DOT4, "1: x staged as signed bytes, a scale a group of 32, and each weight word's nibbles multiplied by two integer "
                            + "dot products (x rounded to 8 bits); 0: f16 products", 0, 1))
                    .require("dot4 with vector 4 (a lane's chunk is one quantization group)", v -> v.getOrDefault("dot4", 0) == 0 || v.get("vector") == 4);
        return space;
    }

    @Override
    public Optional<List<KernelCall>> apply(Node node, ScheduleContext ctx) {
        MatmulParts m = MatmulParts.of(node);
        if (m == null || !ctx.caps().f16Arithmetic()) return Optional.empty();
        Value w = m.w();
        QuantScheme q = w.type().quant();
        if (w.kind() != Value.Kind.PARAM || q == null || q.bits() != 4 || q.scaleType() != DType.F16 || q.groupSize() != 32) return Optional.empty();
        int n = (int) m.n(), k = (int) m.k();
        int sub = ctx.caps().subgroupSize();
        boolean norm = m.prologue() instanceof Op.Prologue.RmsNorm;
        // the row must fit shared memory with the smallest block (opting in where the target can); longer rows go
        // to the f32 GEMV
        if (k % 32 != 0 || sharedBytes(k, norm, sub, sub, 1, false) > ctx.caps().optInSharedBytes()) return Optional.empty();
        KnobSpace space = space(ctx, m);
        Map<String, Integer> v = ctx.choose(space);
        int warps = v.get("warps"), vector = v.get("vector"), ksplit = v.get("ksplit");
        int groups = warps / ksplit;
        int stages = v.getOrDefault("stages", 0);
        int rpw = rowsPerWarp(v.get("rows_per_warp"), n, groups, ctx.caps().multiprocessors(), stages > 0);
        int unroll = chunksPerBatch(v.get("unroll"), rpw);
        boolean bulk = stages > 0 && ringBulk(v, k, unroll, ctx.caps());
        GemvHalfRing.Scales ringScales = GemvHalfRing.Scales.of(v.getOrDefault("ring_scales", ringScalesDefault(k, ctx.caps())), k, sub, bulk);
        boolean dot4 = v.getOrDefault("dot4", 0) == 1;
        // a block stages x once and then takes row tiles until none are left: about two blocks per SM,
        // so the prologue (a norm's reduction, the staging) runs once per block, not once per tile
        int tiles = (n + groups * rpw - 1) / (groups * rpw);
        // with a ring, as many warps a multiprocessor as 4 blocks of 8 (its shared memory, not registers, holds the bytes in flight)
        int perSm = stages > 0 ? Math.max(4, 32 / warps) : 4;
        // a block that opts in beyond the shared memory every block has: no more a multiprocessor than that memory
        // holds (CUDA: a multiprocessor has 1 KiB more than a block may take, and reserves 1 KiB a block), so the
        // tiles are dealt evenly over the blocks that run, not dealt again by the runtime over fewer
        int shared = stages > 0 ? ringSharedBytes(k, norm, warps * sub, sub, stages, rpw, unroll, ringScales, bulk, dot4) : sharedBytes(k, norm, warps * sub, sub, ksplit, dot4);
        if (shared > ctx.caps().maxSharedBytes()) perSm = Math.min(perSm, Math.max(1, (ctx.caps().optInSharedBytes() + 1024) / (shared + 1024)));
        if (v.getOrDefault("per_sm", 0) > 0) perSm = Math.min(perSm, v.get("per_sm"));
        int maxBlocks = perSm * ctx.caps().multiprocessors();
        int rounds = (tiles + maxBlocks - 1) / maxBlocks;
        int blocks = v.get("blocks") != 0 ? v.get("blocks") : (tiles + rounds - 1) / rounds;
        boolean dot2 = v.getOrDefault("dot2", 0) != 0;
        // with a ring: when its first stages batches are copied (before the wait, right after it, once x's loads are out, once x is staged)
        GemvHalfRing.FirstCopies first = GemvHalfRing.FirstCopies.of(stages, v.getOrDefault("before_wait", RING_BEFORE_WAIT), v.getOrDefault("after_wait", RING_AFTER_WAIT),
                v.getOrDefault("after_x", RING_AFTER_X));
        GemvHalfTile.MainLoop loop = new GemvHalfTile.MainLoop(rpw, vector, unroll, v.get("nibbles") == 1, v.get("pipeline"), dot2, ksplit,
                v.getOrDefault("trigger", 0) != 0, ringScales, bulk, first, dot4);
        int prefetch = v.getOrDefault("prefetch", 0);
        boolean xCoalesce = v.getOrDefault("x_coalesce", X_COALESCE) == 1 && xCoalescible(v, m, ctx.caps());
        return Optional.of(List.of(kernel(m, node.output(), ctx, space.signature(), n, k, q, warps, blocks, prefetch, v.get("x_rounds"), xCoalesce, loop)));
    }

    /** Whether knob {@code x_coalesce} changes the kernel of values {@code v}: an f32 x row, threads in 32s, f16 staging (not dot4). */
    static boolean xCoalescible(Map<String, Integer> v, MatmulParts m, Capabilities caps) {
        return v.getOrDefault("dot4", 0) == 0 && GemvHalfPrologue.coalescible(LaunchBuilder.elementOf(m.x().type().dtype()), v.get("warps") * caps.subgroupSize());
    }

    /**
     * Whether values {@code v} of a GEMV of {@code m} on {@code caps} can take a ring: 16-byte chunks (vector 4), whole
     * subgroups on a tile (ksplit 1), pipeline 1, no L2 prefetch, an even number of scales a row (K a multiple of
     * 64), and the ring and x within the shared memory a block may opt into.
     */
    static boolean ringFits(Map<String, Integer> v, MatmulParts m, Capabilities caps) {
        return ringBytes(v, m, caps) >= 0;
    }

    /** The shared memory the ring and x of values {@code v} take ({@link #ringSharedBytes}), or -1 where they cannot take a ring ({@link #ringFits}). */
    static int ringBytes(Map<String, Integer> v, MatmulParts m, Capabilities caps) {
        int k = (int) m.k(), n = (int) m.n(), sub = caps.subgroupSize(), stages = v.getOrDefault("stages", 0);
        if (stages == 0 || v.get("vector") != 4 || v.get("ksplit") != 1 || v.get("pipeline") != 1 || v.getOrDefault("prefetch", 0) != 0 || k % 64 != 0)
            return -1;
        int rpw = rowsPerWarp(v.get("rows_per_warp"), n, v.get("warps"), caps.multiprocessors(), true);
        int unroll = chunksPerBatch(v.get("unroll"), rpw);
        boolean bulk = ringBulk(v, k, unroll, caps);
        int bytes = ringSharedBytes(k, m.prologue() instanceof Op.Prologue.RmsNorm, v.get("warps") * sub, sub, stages, rpw, unroll,
                GemvHalfRing.Scales.of(v.getOrDefault("ring_scales", ringScalesDefault(k, caps)), k, sub, bulk), bulk, v.getOrDefault("dot4", 0) == 1);
        return bytes <= caps.optInSharedBytes() ? bytes : -1;
    }

    /**
     * The values as the kernel uses them: a ring ({@code stages}) only where the other knobs suit one
     * ({@link #ringFits}), so the ring the defaults ask for on sm_90 gives way to a knob set against it; the early
     * trigger 1 only with a ring (without one a block triggers at its end), 2 in either loop (in the register loop as
     * a block's last row tile begins; recorded as 1 with a ring).
     */
    static Map<String, Integer> asUsed(Map<String, Integer> v, MatmulParts m, Capabilities caps) {
        if (v.getOrDefault("x_coalesce", X_COALESCE) != X_COALESCE && !xCoalescible(v, m, caps)) {
            Map<String, Integer> out = new java.util.LinkedHashMap<>(v);
            out.put("x_coalesce", X_COALESCE);
            return asUsed(out, m, caps);
        }
        boolean ring = ringFits(v, m, caps);
        String trigger = jmlc.compiler.schedule.Program.EARLY_TRIGGER;
        int early = v.getOrDefault(trigger, 0), k = (int) m.k(), scalesDefault = ringScalesDefault(k, caps);
        if (ring) {
            boolean noPieces = v.getOrDefault("ring_scales", scalesDefault) == 2 && !GemvHalfRing.Scales.piecesFit(k, caps.subgroupSize());
            int rpw = rowsPerWarp(v.get("rows_per_warp"), (int) m.n(), v.get("warps"), caps.multiprocessors(), true);
            boolean noBulk = v.getOrDefault("ring_copy", RING_COPY) == 1 && !ringBulk(v, k, chunksPerBatch(v.get("unroll"), rpw), caps);
            if (early != REGISTER_LOOP_TRIGGER && !noPieces && !noBulk) return v;
            Map<String, Integer> out = new java.util.LinkedHashMap<>(v);
            if (early == REGISTER_LOOP_TRIGGER) out.put(trigger, 1); // with a ring, 2 is the ring's early trigger
            if (noPieces) out.put("ring_scales", 1); // pieces need rows of a multiple of 256: words
            if (noBulk) out.put("ring_copy", 0); // bulk copies need spans of 16 bytes: each lane's own
            return out;
        }
        boolean moot = v.getOrDefault("stages", 0) != 0 || early == 1 || v.getOrDefault("ring_scales", scalesDefault) != scalesDefault
                || v.getOrDefault("after_wait", RING_AFTER_WAIT) != RING_AFTER_WAIT || v.getOrDefault("before_wait", RING_BEFORE_WAIT) != RING_BEFORE_WAIT
                || v.getOrDefault("after_x", RING_AFTER_X) != RING_AFTER_X || v.getOrDefault("ring_copy", RING_COPY) != RING_COPY;
        if (!moot) return v;
        Map<String, Integer> out = new java.util.LinkedHashMap<>(v);
        if (out.containsKey("stages")) out.put("stages", 0);
        if (out.containsKey("ring_scales")) out.put("ring_scales", scalesDefault);
        if (out.containsKey("after_wait")) out.put("after_wait", RING_AFTER_WAIT);
        if (out.containsKey("before_wait")) out.put("before_wait", RING_BEFORE_WAIT);
        if (out.containsKey("after_x")) out.put("after_x", RING_AFTER_X);
        if (out.containsKey("ring_copy")) out.put("ring_copy", RING_COPY);
        // the ring's early trigger goes with the ring; the register loop's (2) stays
        if (out.containsKey(trigger) && early == 1) out.put(trigger, 0);
        return out;
    }

    private KernelCall kernel(MatmulParts m, Value out, ScheduleContext ctx, KernelSignature sig, int n, int k, QuantScheme q,
                              int warps, int blocks, int prefetch, int xRounds, boolean xCoalesce, GemvHalfTile.MainLoop loop) {
        int rpw = loop.rpw(), vector = loop.vector(), unroll = loop.unroll();
        boolean dot2 = loop.dot2(), dot4 = loop.dot4();
        int sub = ctx.caps().subgroupSize();
        int ksplit = loop.ksplit(), threads = warps * sub, blockRows = warps / ksplit * rpw, tiles = (n + blockRows - 1) / blockRows;
        int words = k / 8, chunks = words / vector;
        int xCols = m.prologue() instanceof Op.Prologue.SiluMul ? 2 * k : k;
        String name = sig.key() + MatmulPrologue.suffix(m) + "_w" + warps + loop.suffix() + "b" + blocks + loop.variant() + (prefetch != 0 ? "_pf" + prefetch : "") + (xRounds != 0 ? "_xr" + xRounds : "") + (xCoalesce ? "_xc" : "");
        LaunchBuilder lb = ctx.launch(name, "y[s, n] = sum_k prologue(x)[s, k] * w[n, k]" + (m.bias() != null ? " + bias[n]" : "")
                + (m.residual() != null ? " + r[s, n]" : "") + (dot4 ? " by dot4 of the nibbles and x quantized to bytes (a scale per 32)"
                : dot2 ? " by f16 dot2 into f32" : " in f16 arithmetic") + ", w " + w(m));
        lb.block(threads).grid(c(blocks), lb.rows(m.x())).persistent(tiles)
                .knob("warps", warps).knob("rows_per_warp", rpw).knob("vector", vector).knob("unroll", unroll).knob("blocks", blocks)
                .knob("nibbles", loop.inPlace() ? 1 : 0).knob("pipeline", loop.pipeline()).knob("prefetch", prefetch).knob("ksplit", ksplit).knob("x_rounds", xRounds).knob("x_coalesce", xCoalesce ? 1 : 0);
        if (ctx.caps().dot4()) lb.knob("dot4", dot4 ? 1 : 0);
        Buffer x = lb.input("x", m.x());
        Buffer g = m.normWeight() != null ? lb.input("g", m.normWeight()) : null;
        Buffer data = lb.input("w", m.w());
        Buffer scales = lb.weightScales("scales", m.w());
        Buffer bias = m.bias() != null ? lb.input("bias", m.bias()) : null;
        Buffer res = m.residual() != null ? lb.input("residual", m.residual()) : null;
        Buffer y = lb.output("y", out);
        // x in f16, 8 values an entry; with dot4 in bytes, 16 an entry, and a pair of f32 a group (GemvHalfTile.StagedX)
        GemvHalfTile.StagedX xs = dot4 ? new GemvHalfTile.StagedX(lb.shared("xs", KType.U32X4, 2 * chunks), lb.shared("xgroups", KType.F32X2, k / 32))
                : new GemvHalfTile.StagedX(lb.shared("xs", KType.U32X4, words), null);
        K.Body b = lb.body;

        // ---- before the previous kernel finishes (where the target launches dependents early): pull
        // this block's weights into L2 (weights are never written, so this needs no wait): prefetch 1,
        // its first tile line by line; 2, every tile it will take, a bulk prefetch per tile for the
        // packed words and one for the scales (a thread per tile) ----
        if (prefetch == 2) {
            int rowBytes = 4 * words, scaleRowBytes = 2 * (k / 32);
            // the tiles this block takes: the grid may be smaller than blocks (persistent, see LaunchBuilder.persistent)
            Expr.Var mine = b.let("mine", div(add(c(tiles), sub(gdim(0), c(1))), gdim(0)));
            Expr.Var j = var("pj", KType.I32);
            b.forRange(j, tid(0), mine, c(threads), 0, s -> {
                Expr.Var t = s.let("pt", add(bid(0), mul(j, gdim(0))));
                s.ifThen(lt(t, c(tiles)), pb -> {
                    Expr.Var r0 = pb.let("pr0", mul(t, c(blockRows)));
                    Expr.Var rows = pb.let("prows", min(c(blockRows), sub(c(n), r0)));
                    pb.prefetchRange(data, mul(r0, c(words)), mul(rows, c(rowBytes)));
                    pb.prefetchRange(scales, mul(r0, c(k / 32)), mul(rows, c(scaleRowBytes)));
                });
            });
        } else if (prefetch == 1) {
            int linesPerRow = Math.max(1, words / 32); // 128-byte lines of packed weights per row
            Expr.Var li = var("li", KType.I32);
            b.forRange(li, tid(0), c(blockRows * linesPerRow), c(threads), 0, s -> s.prefetch(data,
                    add(mul(min(add(mul(bid(0), c(blockRows)), div(li, c(linesPerRow))), c(n - 1)), c(words)), mul(mod(li, c(linesPerRow)), c(32)))));
        }
        // with pipeline 2 the first tile's first batch of weights is loaded now, in flight while x is staged
        Expr.Var warp = b.let("warp", div(tid(0), c(sub)));
        Expr.Var laneId = b.let("lane", mod(tid(0), c(sub)));
        // with ksplit, the subgroups of group warp / ksplit share rows; the group's part warp % ksplit starts
        // part · sub chunks in, so the group's lanes together read consecutive chunks
        Expr.Var group = ksplit == 1 ? warp : b.let("group", div(warp, c(ksplit)));
        Expr part = ksplit == 1 ? c(0) : b.let("part", mod(warp, c(ksplit)));
        Expr.Var start = ksplit == 1 ? laneId : b.let("start", add(mul(part, c(sub)), laneId));
        GemvHalfTile.Slice slice = new GemvHalfTile.Slice(warp, group, part, laneId, start, ksplit == 1 ? null : lb.shared("partial", KType.F32, warps * rpw));
        GemvHalfTile.Loads loads = new GemvHalfTile.Loads(data, scales, chunks, k, loop.stride(sub), loop);
        boolean ringed = loop.stages() > 0;
        GemvHalfTile.Batch ahead = !ringed && loop.pipeline() == 2 ? loads.issue(b, GemvHalfTile.tileRows(bid(0), group, blockRows, rpw, n), start) : null;
        // with a ring, its first batches of copies go out now (stages - 1 by default), in flight while x is staged
        GemvHalfRing.Ring ring = ringed ? GemvHalfRing.start(lb, b, data, scales, loop.first(), threads, rpw, unroll, sub, chunks, k, n, blockRows, tiles,
                group, laneId, loop.ringScales(), loop.bulk()) : null;
        GemvHalfPrologue prologue = new GemvHalfPrologue(lb, m, x, g, k, threads, sub, xRounds, xCoalesce);
        prologue.beforeWait(b);
        if (ctx.caps().gridDependency()) b.gridDependency(jmlc.compiler.kernel.Stmt.GridDependency.Kind.WAIT);
        // with knob after_wait, the ring's next copies go out now, in flight while x is staged
        if (ring != null) ring.issueAfterWait(b);

        // ---- prologue: stage prologue(x row) as f16, pairs (v_j, v_j+4) of each 8, or with dot4 as bytes ----
        Expr.Var xb = b.let("xb", mul(bid(1), c(xCols)));
        // with knob after_x, the ring's next copies go out once x's first loads are issued, before any is used
        prologue.stage(b, xb, dot4 ? GemvHalfPrologue.bytesStore(xs, chunks, q.zero()) : GemvHalfPrologue.halvesStore(xs, vector, chunks),
                ring != null ? ring::issueAfterX : s -> { });
        b.barrier();

        // ---- row tiles: main loop and epilogue ----
        if (ringed) GemvHalfRing.loop(b, ring, m, q, slice, loop, xs, bias, res, y);
        else {
            Expr.Var tile = var("tile", KType.I32);
            b.forRange(tile, bid(0), c(tiles), gdim(0), 1, tb -> {
                // with an early trigger: the block's last tile begins, so the next kernel may launch (block-uniform)
                if (loop.triggerEarly()) tb.ifThen(ge(add(tile, gdim(0)), c(tiles)), t -> t.gridDependency(jmlc.compiler.kernel.Stmt.GridDependency.Kind.TRIGGER));
                GemvHalfTile.tileBody(tb, m, q, tile, slice, sub, n, blockRows, chunks, loop, loads, ahead, xs, bias, res, y);
            });
        }
        // the block's rows are done: the next kernel may launch (its blocks would otherwise hold this
        // one's multiprocessors while they wait) and prefetch its weights while this grid drains
        // (with an early trigger the ring's loop has let it, or the block had no tiles: its exit lets it)
        if (ctx.caps().gridDependency() && !loop.triggerEarly()) b.gridDependency(jmlc.compiler.kernel.Stmt.GridDependency.Kind.TRIGGER);
        return lb.build();
    }

    private static String w(MatmulParts m) {
        return m.w().type().toString();
    }
}
