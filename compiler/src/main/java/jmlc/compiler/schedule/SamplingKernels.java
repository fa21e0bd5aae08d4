package jmlc.compiler.schedule;

import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.kernel.Shared;

import java.util.Map;

import static jmlc.compiler.kernel.K.*;

/**
 * Choosing the next token on the device, so one int, not a row of logits, crosses to the host.
 * Both kernels run as one block over a {@code vocab}-long logits row and write the token id to
 * {@code out[0]}. Their {@code advance} forms, the last launch of a captured decode-and-choose step,
 * also feed the choice back ({@code tokens[0] = out[0]; pos[0] += 1}), so the next step needs no
 * copy in and no launch of its own (a kernel boundary is 1 to 2 µs of a ~2 ms step).
 * <ul>
 *   <li>{@link #argmax}: greedy; ties go to the smaller id (as the host sampler does).</li>
 *   <li>{@link #sample}: a draw from {@code softmax(logits / T)}; {@code params = [1/T, u]} with u uniform
 *       in [0, 1) from the host's seeded stream. Each thread sums exp over a contiguous chunk; one
 *       thread scans the chunk sums to find the chunk holding {@code u · total}; that chunk's owner
 *       walks it to the token. Top-k, top-p and repetition penalties run on the host.</li>
 * </ul>
 */
public final class SamplingKernels {
    private SamplingKernels() {}

    /** Threads of the one block, where the target allows that many. */
    public static final int THREADS = 1024;

    /** {@link #THREADS}, or fewer (a power of two) where the block size or {@link #sample}'s shared memory (a float a thread) would not fit. */
    static int threads(Capabilities caps) {
        int t = Math.min(THREADS, Integer.highestOneBit(caps.maxThreadsPerBlock()));
        while (t > caps.subgroupSize() && 4 * t + 4 * (t / caps.subgroupSize()) + 8 > caps.maxSharedBytes()) t /= 2;
        return t;
    }
    /** Logits a thread of {@link #argmax} loads before comparing them. */
    static final int BATCH = 8;

    /** Greedy choice: {@code out[0] = argmax(logits)}. */
    public static Kernel argmax(int vocab, Capabilities caps) {
        return argmax(vocab, caps, false);
    }

    /** {@link #argmax}, then the choice fed back: {@code tokens[0] = out[0]; pos[0] += 1}. */
    public static Kernel argmaxAndAdvance(int vocab, Capabilities caps) {
        return argmax(vocab, caps, true);
    }

    private static Kernel argmax(int vocab, Capabilities caps, boolean advance) {
        int warpSize = caps.subgroupSize(), threads = threads(caps);
        Buffer logits = new Buffer("logits", KType.F32, true), out = new Buffer("out", KType.I32, false);
        Feedback feed = advance ? new Feedback() : null;
        Shared sv = new Shared("best_v", KType.F32, threads / warpSize), si = new Shared("best_i", KType.I32, threads / warpSize);
        K.Body b = new K.Body();
        Expr.Var bv = b.let("bv", f(Float.NEGATIVE_INFINITY));
        Expr.Var bi = b.let("bi", c(vocab));
        // thread t reads t, t + threads, ...: BATCH loads issued together, then compared in order
        // (one load at a time would wait a memory latency per element: ~20 µs over 32000 logits)
        int perThread = (vocab + threads - 1) / threads;
        Expr.Var j = var("j", KType.I32);
        b.forRange(j, c(0), c((perThread + BATCH - 1) / BATCH), c(1), 0, x -> {
            Expr.Var[] idx = new Expr.Var[BATCH], val = new Expr.Var[BATCH];
            for (int u = 0; u < BATCH; u++) {
                idx[u] = x.let(x.fresh("i"), add(tid(0), mul(add(mul(j, c(BATCH)), c(u)), c(threads))));
                val[u] = x.let(x.fresh("v"), select(lt(idx[u], c(vocab)), load(logits, min(idx[u], c(vocab - 1))), f(Float.NEGATIVE_INFINITY)));
            }
            for (int u = 0; u < BATCH; u++) {
                int uu = u;
                x.ifThen(gt(val[u], bv), y -> {
                    y.assign(bv, val[uu]);
                    y.assign(bi, idx[uu]);
                });
            }
        });
        reduceArgmax(b, bv, bi, warpSize);
        b.ifThen(eq(mod(tid(0), c(warpSize)), c(0)), x -> {
            x.sstore(sv, div(tid(0), c(warpSize)), bv);
            x.sstore(si, div(tid(0), c(warpSize)), bi);
        });
        b.barrier();
        b.ifThen(eq(tid(0), c(0)), x -> {
            for (int w = 1; w < threads / warpSize; w++) {
                Expr.Var ov = x.let(x.fresh("ov"), sload(sv, c(w))), oi = x.let(x.fresh("oi"), sload(si, c(w)));
                x.ifThen(K.lor(gt(ov, bv), K.land(eq(ov, bv), lt(oi, bi))), y -> {
                    y.assign(bv, ov);
                    y.assign(bi, oi);
                });
            }
            x.store(out, c(0), bi);
            if (feed != null) feed.store(x, bi);
        });
        return Kernel.checked("argmax_" + vocab + (feed != null ? "_advance" : ""), feed != null ? feed.buffers(logits, out) : java.util.List.of(logits, out),
                java.util.List.of(), java.util.List.of(sv, si), b.build(), new int[] {threads, 1, 1}, new Expr[] {c(1), c(1), c(1)}, Map.of("threads", threads),
                "out[0] = argmax(logits[0 .. " + vocab + "))" + (feed != null ? Feedback.SUMMARY : ""), caps);
    }

    /** The buffers and store of the {@code advance} forms: the chosen token becomes the next step's input. */
    private static final class Feedback {
        static final String SUMMARY = "; tokens[0] = out[0]; pos[0] += 1";
        final Buffer tokens = new Buffer("tokens", KType.I32, false), pos = new Buffer("pos", KType.I32, false);

        java.util.List<Buffer> buffers(Buffer... first) {
            java.util.List<Buffer> all = new java.util.ArrayList<>(java.util.List.of(first));
            all.add(tokens);
            all.add(pos);
            return all;
        }

        /** By the one invocation that wrote {@code out[0]}. */
        void store(K.Body x, Expr token) {
            x.store(tokens, c(0), token);
            x.store(pos, c(0), add(load(pos, c(0)), c(1)));
        }
    }

    /** Warp butterfly on (value, index) pairs: larger value wins, then smaller index. */
    private static void reduceArgmax(K.Body b, Expr.Var bv, Expr.Var bi, int warpSize) {
        for (int m = warpSize / 2; m >= 1; m /= 2) {
            Expr.Var ov = b.let(b.fresh("sv"), shflXor(bv, m)), oi = b.let(b.fresh("si"), shflXor(bi, m));
            Expr.Var better = b.let(b.fresh("better"), K.lor(gt(ov, bv), K.land(eq(ov, bv), lt(oi, bi))));
            b.assign(bv, select(better, ov, bv));
            b.assign(bi, select(better, oi, bi));
        }
    }

    /** A draw from {@code softmax(logits / T)}: {@code out[0]}. */
    public static Kernel sample(int vocab, Capabilities caps) {
        return sample(vocab, caps, false);
    }

    /** {@link #sample}, then the choice fed back: {@code tokens[0] = out[0]; pos[0] += 1}. */
    public static Kernel sampleAndAdvance(int vocab, Capabilities caps) {
        return sample(vocab, caps, true);
    }

    private static Kernel sample(int vocab, Capabilities caps, boolean advance) {
        int warpSize = caps.subgroupSize(), threads = threads(caps);
        Buffer logits = new Buffer("logits", KType.F32, true), params = new Buffer("params", KType.F32, true), out = new Buffer("out", KType.I32, false);
        Feedback feed = advance ? new Feedback() : null;
        int warps = threads / warpSize;
        int chunk = (vocab + threads - 1) / threads;
        Shared red = new Shared("red", KType.F32, warps), sums = new Shared("sums", KType.F32, threads);
        Shared pick = new Shared("pick", KType.I32, 1), rest = new Shared("rest", KType.F32, 1);
        K.Body b = new K.Body();
        Expr.Var invT = b.let("inv_t", load(params, c(0)));
        Expr.Var u = b.let("u", load(params, c(1)));
        // block max, for a stable exp
        Expr.Var m = b.let("m", f(Float.NEGATIVE_INFINITY));
        Expr.Var i = var("i", KType.I32);
        b.forRange(i, tid(0), c(vocab), c(threads), 0, x -> x.assign(m, K.max(m, load(logits, i))));
        for (int s = warpSize / 2; s >= 1; s /= 2) b.assign(m, K.max(m, shflXor(m, s)));
        b.ifThen(eq(mod(tid(0), c(warpSize)), c(0)), x -> x.sstore(red, div(tid(0), c(warpSize)), m));
        b.barrier();
        Expr.Var mm = b.let("mm", sload(red, c(0)));
        for (int w = 1; w < warps; w++) b.assign(mm, K.max(mm, sload(red, c(w))));
        // each thread: sum of exp((x - max) / T) over its contiguous chunk
        Expr.Var lo = b.let("lo", min(mul(tid(0), c(chunk)), c(vocab)));
        Expr.Var hi = b.let("hi", min(add(lo, c(chunk)), c(vocab)));
        Expr.Var s = b.let("s", f(0));
        Expr.Var j = var("j", KType.I32);
        b.forRange(j, lo, hi, c(1), 0, x -> x.assign(s, add(s, exp(mul(sub(load(logits, j), mm), invT)))));
        b.sstore(sums, tid(0), s);
        b.barrier();
        // thread 0 finds the chunk where the running sum passes u · total
        b.ifThen(eq(tid(0), c(0)), x -> {
            Expr.Var total = x.let("total", f(0));
            Expr.Var t = var("t", KType.I32);
            x.forRange(t, c(0), c(threads), c(1), 0, y -> y.assign(total, add(total, sload(sums, t))));
            Expr.Var target = x.let("target", mul(u, total));
            Expr.Var acc = x.let("acc", f(0));
            Expr.Var found = x.let("found", c(-1));
            Expr.Var lastNonZero = x.let("last_nz", c(0));
            Expr.Var t2 = var("t2", KType.I32);
            x.forRange(t2, c(0), c(threads), c(1), 0, y -> {
                Expr.Var st = y.let("st", sload(sums, t2));
                y.ifThen(gt(st, f(0)), z -> z.assign(lastNonZero, t2));
                y.ifThen(K.land(lt(found, c(0)), gt(add(acc, st), target)), z -> {
                    z.assign(found, t2);
                    z.sstore(rest, c(0), sub(target, acc));
                });
                y.assign(acc, add(acc, st));
            });
            // rounding can leave target just past the total: take the last chunk with mass
            x.ifThen(lt(found, c(0)), y -> {
                y.assign(found, lastNonZero);
                y.sstore(rest, c(0), sload(sums, lastNonZero));
            });
            x.sstore(pick, c(0), found);
        });
        b.barrier();
        b.ifThen(eq(tid(0), sload(pick, c(0))), x -> {
            Expr.Var r = x.let("r", sload(rest, c(0)));
            Expr.Var tok = x.let("tok", c(-1));
            Expr.Var lastPos = x.let("last_pos", lo);
            Expr.Var k = var("k", KType.I32);
            x.forRange(k, lo, hi, c(1), 0, y -> {
                Expr.Var p = y.let("p", exp(mul(sub(load(logits, k), mm), invT)));
                y.ifThen(gt(p, f(0)), z -> z.assign(lastPos, k));
                y.ifThen(K.land(lt(tok, c(0)), gt(p, r)), z -> z.assign(tok, k));
                y.assign(r, sub(r, p));
            });
            Expr.Var chosen = x.let("chosen", select(lt(tok, c(0)), lastPos, tok));
            x.store(out, c(0), chosen);
            if (feed != null) feed.store(x, chosen);
        });
        return Kernel.checked("sample_" + vocab + (feed != null ? "_advance" : ""), feed != null ? feed.buffers(logits, params, out) : java.util.List.of(logits, params, out),
                java.util.List.of(), java.util.List.of(red, sums, pick, rest), b.build(), new int[] {threads, 1, 1}, new Expr[] {c(1), c(1), c(1)}, Map.of("threads", threads),
                "out[0] = a draw from softmax(logits / T) with u = params[1]" + (feed != null ? Feedback.SUMMARY : ""), caps);
    }
}
