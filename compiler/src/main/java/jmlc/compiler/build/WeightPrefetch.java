package jmlc.compiler.build;

import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.kernel.KernelCheck;
import jmlc.compiler.kernel.Stmt;
import jmlc.compiler.schedule.Arg;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.Knob;
import jmlc.compiler.schedule.KnobSpace;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.target.Target;

import java.util.ArrayList;
import java.util.List;

import static jmlc.compiler.kernel.K.*;

/**
 * The coming GEMVs' weights asked of the L2 while the decode attention runs. A decode step alternates
 * launches that stream weights at the read bandwidth (the GEMVs) with launches that read none (a layer's
 * attention and its combine: a few MB of KV cache, bound by latency, 5 to 6 us a layer on the H200 at
 * position 256). During the latter the memory is nearly idle. So the first launch of each run of
 * weightless launches gets the weights of the launches after it as extra read-only parameters, and every
 * one of its blocks starts by asking the L2 for its share of them ({@code cp.async.bulk.prefetch.L2}, one
 * instruction a range, nothing waited for), up to {@code mib} MiB: in a Llama layer the o GEMV's weights
 * (8.4 MiB of data and 1 MiB of scales for 7B) and the first rows of gate/up's. Those GEMVs then read
 * them from the L2 instead of the memory.
 *
 * <p>A range is a prefix of a weight's data and the same share of its scales (a GEMV's first rows: its
 * first tiles). Each of the host's blocks asks for one slice of each range (a range split evenly over
 * the grid, in 16-byte units), so the requests come from every multiprocessor the host runs on. The
 * prefetch goes first in the host's body, before it waits for the kernel before it: it reads only
 * weights, which nothing writes, so under programmatic dependent launch it starts as early as the host
 * does. A prefetch is a hint: the values computed are the same with it or without.
 *
 * <p>Where: targets with bulk L2 prefetches ({@link Capabilities#bulk()}: CUDA sm_90+). The
 * knob's default is 0 (off) until measured.
 */
public final class WeightPrefetch {
    private WeightPrefetch() {}

    public static final String KIND = "decode_weight_prefetch";

    /** What a host kernel shows among its knobs: the KiB of weights it asks of the L2. */
    public static final String HOST_KNOB = "prefetch_kib";

    /** Whether {@code k} is a launch this rewrite made: it asks the L2 for the next GEMVs' weights. */
    public static boolean hosts(Kernel k) {
        return k.knobs().containsKey(HOST_KNOB);
    }

    /** The knob: MiB of the coming launches' weights a decode step's weightless launch asks of the L2 (0: none). */
    public static KnobSpace space(Target target) {
        return new KnobSpace(new KernelSignature(KIND, "", target))
                .add(Knob.range("mib", 0, 0, 256,
                        "MiB of the next GEMVs' weights the decode attention asks of the L2 while it runs (0: none); CUDA sm_90+",
                        0, 8, 16, 24, 32));
    }

    /** The MiB {@code knobs} give for {@code target} (0 where the target has no bulk L2 prefetch). */
    public static int mib(Knobs knobs, Target target) {
        if (!target.caps().bulk()) return 0;
        KnobSpace s = space(target);
        return s.resolve(knobs.values(s.signature())).get("mib");
    }

    /** One range asked of the L2: the first {@code bytes} (a multiple of 16) of {@code arg}'s buffer. */
    record Range(Arg arg, long bytes) {}

    /** {@code p} with each run of weightless launches' first asking the L2 for up to {@code mib} MiB of the weights after it ({@code p} where none do). */
    public static Program apply(Program p, Capabilities caps, int mib) {
        if (mib <= 0 || !caps.bulk()) return p;
        List<KernelCall> in = p.launched(), out = new ArrayList<>(in.size());
        boolean changed = false;
        for (int i = 0; i < in.size(); i++) {
            KernelCall c = in.get(i);
            boolean hosts = !readsWeights(c) && i + 1 < in.size() && (i == 0 || readsWeights(in.get(i - 1)));
            List<Range> ranges = hosts ? ahead(in, i, (long) mib << 20) : List.of();
            if (ranges.isEmpty()) out.add(c);
            else {
                out.add(hosting(c, ranges, caps));
                changed = true;
            }
        }
        return changed ? p.withLaunched(out) : p;
    }

    /** Whether a launch reads a weight (its data or its scales). */
    static boolean readsWeights(KernelCall c) {
        return c.args().stream().anyMatch(a -> a instanceof Arg.WeightData || a instanceof Arg.WeightScales);
    }

    /**
     * The ranges for the launches after the run of weightless launches that starts at {@code from}, in launch
     * order, up to {@code budget} bytes and up to the next weightless launch (which hosts its own): each weight's
     * data and scales whole, then the same share of both of the weight where the budget ends.
     */
    static List<Range> ahead(List<KernelCall> calls, int from, long budget) {
        List<Range> out = new ArrayList<>();
        List<Value> seen = new ArrayList<>();
        int j = from;
        while (j < calls.size() && !readsWeights(calls.get(j))) j++;
        for (; j < calls.size() && budget > 0 && readsWeights(calls.get(j)); j++)
            for (Arg a : calls.get(j).args()) {
                if (!(a instanceof Arg.WeightData d) || seen.contains(d.param()) || budget <= 0) continue;
                seen.add(d.param());
                long data = dataBytes(d.param()), scales = scaleBytes(d.param());
                boolean whole = data + scales <= budget;
                double share = whole ? 1.0 : (double) budget / (data + scales);
                long dataPart = whole ? data : floor16((long) (data * share)), scalePart = whole ? scales : floor16((long) (scales * share));
                if (dataPart % 16 != 0 || scalePart % 16 != 0) continue; // a bulk prefetch moves multiples of 16 bytes: such a weight is left to its GEMV
                if (dataPart > 0) out.add(new Range(a, dataPart));
                if (scalePart > 0) out.add(new Range(new Arg.WeightScales(d.param()), scalePart));
                budget = whole ? budget - data - scales : 0;
            }
        return out;
    }

    private static long floor16(long bytes) {
        return bytes & ~15L;
    }

    /** Bytes of a weight's packed values (all of it where it is not quantized), as the weight packer lays them out. */
    static long dataBytes(Value param) {
        TensorType t = param.type();
        long cols = t.shape().cols(), rows = t.shape().numel() / cols;
        return t.quant() != null ? t.quant().dataBytes(rows, cols) : rows * cols * (t.dtype().bits() / 8);
    }

    /** Bytes of a weight's scales (none where it is not quantized). */
    static long scaleBytes(Value param) {
        TensorType t = param.type();
        long cols = t.shape().cols(), rows = t.shape().numel() / cols;
        return t.quant() != null ? t.quant().scaleBytes(rows, cols) : 0;
    }

    /**
     * {@code host} with a parameter per range and, first in its body, each block asking for its slice of each range:
     * range r is split into slices of {@code ceil(units / blocks)} 16-byte units, the slice of linear block b asked
     * for by thread r % threads of it (one instruction each, spread over the block's first warps).
     */
    static KernelCall hosting(KernelCall host, List<Range> ranges, Capabilities caps) {
        Kernel k = host.kernel();
        List<Buffer> buffers = new ArrayList<>(k.buffers());
        List<Arg> args = new ArrayList<>(host.args());
        K.Body b = new K.Body();
        b.add(new Stmt.Comment("the next GEMVs' weights asked of the L2 while this kernel runs (" + KIND + "): a slice of each range a block"));
        Expr.Var block = b.let("ahead_block", add(bid(0), mul(gdim(0), add(bid(1), mul(gdim(1), bid(2))))));
        Expr.Var blocks = b.let("ahead_blocks", mul(gdim(0), mul(gdim(1), gdim(2))));
        Expr.Var thread = b.let("ahead_thread", add(tid(0), mul(c(k.block()[0]), add(tid(1), mul(c(k.block()[1]), tid(2))))));
        long total = 0;
        for (int r = 0; r < ranges.size(); r++) {
            Range range = ranges.get(r);
            Buffer buf = new Buffer("ahead" + r, KType.U32X4, true, true);
            buffers.add(buf);
            args.add(range.arg());
            int units = Math.toIntExact(range.bytes() / 16);
            total += range.bytes();
            int rr = r;
            b.ifThen(eq(thread, c(r % k.threadsPerBlock())), t -> {
                Expr.Var slice = t.let("ahead_slice" + rr, div(add(c(units), sub(blocks, c(1))), blocks));
                Expr.Var first = t.let("ahead_first" + rr, mul(block, slice));
                t.ifThen(lt(first, c(units)), u -> u.prefetchRange(buf, first, mul(min(slice, sub(c(units), first)), c(16))));
            });
        }
        List<Stmt> body = new ArrayList<>();
        body.add(b.build());
        body.addAll(((Stmt.Block) k.body()).body());
        String name = k.name() + "_ahead" + ranges.size() + "r" + (total >> 10) + "k";
        java.util.Map<String, Integer> knobs = new java.util.LinkedHashMap<>(k.knobs());
        knobs.put(HOST_KNOB, Math.toIntExact(total >> 10));
        Kernel out = new Kernel(name, buffers, k.scalars(), k.shared(), new Stmt.Block(body), k.block(), k.grid(), knobs,
                k.summary() + "; first asks the L2 for " + String.format(java.util.Locale.ROOT, "%.1f", total / 1048576.0)
                        + " MiB of the next GEMVs' weights", k.tiles());
        KernelCheck.verify(out, caps);
        return new KernelCall(out, args);
    }
}
