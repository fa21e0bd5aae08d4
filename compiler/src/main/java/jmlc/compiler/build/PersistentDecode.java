package jmlc.compiler.build;

import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.kernel.KernelCheck;
import jmlc.compiler.kernel.Rebind;
import jmlc.compiler.kernel.Shared;
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
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Fewer kernel boundaries in a decode step: consecutive launches of persistent kernels (their x
 * blocks take tiles in a grid-stride loop, {@link Kernel#tiles()}: the GEMVs) become one launch of
 * one kernel that runs their bodies in turn with a grid barrier ({@link Stmt.GridBarrier}) between
 * them. In a Llama layer the o, gate/up and down GEMVs and the next layer's qkv GEMV run as one
 * kernel; the decode attention, which is not persistent, stays a launch of its own.
 *
 * <p>Why: on the H200 each GEMV of a 7B step costs about 4 to 5 us beyond its bytes at the read
 * bandwidth (launch, ramp, drain, uneven finishing, the gap to the next kernel), 128 GEMVs a step
 * (bench/RESULTS.md, "Decode towards the roofline"). A grid barrier replaces a kernel boundary with
 * one atomic a block and a spin. Measured on the H200 (2026-12-05, bench/RESULTS.md): it is not cheaper. A grid
 * barrier takes 1.2 to 1.3 us against 0.95 us for a kernel boundary inside a CUDA graph, and the fused 7B decode
 * step ran 7% slower (575 against 617 tok/s; 3% with {@code pipeline} 2), with the same logits bit for bit. So
 * the knob stays 1; the structure remains for other GPUs and for the tuner to try.
 *
 * <p>How a fused kernel is made: each member's body is a block of its own (its locals stay in their
 * scope), its grid-dependency statements dropped (the fused kernel waits once, at its start). The grid
 * barrier before a member goes inside its block, after what the member does before waiting for its
 * inputs (what programmatic dependent launch lets run early reads only weights: the GEMV's L2 prefetch
 * with {@code prefetch}, its first batch of weights with {@code pipeline} 2), so those loads overlap the
 * wait for the slowest block; {@link #weightsOnlyUntil} checks that part writes nothing. Its
 * buffers become parameters of the fused kernel, one parameter per argument they are bound to (two
 * members reading the same tensor share it); its shared arrays are overlaid on the other members'
 * (the grid barrier is also a block barrier, so no member's shared data outlives it). Only weights
 * and constants stay read-only parameters: an activation one member reads may be memory another
 * member writes (the memory plan reuses dead tensors' space), which the GPU's read-only path would
 * not see. The grid is the largest member's; every member deals its tiles over whatever grid runs.
 *
 * <p>Where: CUDA only ({@link Capabilities#gridBarrier()}): its runtime launches such a kernel
 * cooperatively, with no more blocks than stay resident. Vulkan promises no co-residency.
 */
public final class PersistentDecode {
    private PersistentDecode() {}

    public static final String KIND = "decode_persistent";

    /** The argument a fused kernel's grid barrier counts in: one u32 word, zeroed once, left as found by every launch. */
    public static final Arg BARRIER_COUNTER = new Arg.Scratch("grid barrier", 4);

    /** The knob: the most consecutive launches one persistent kernel runs (1: none fused). */
    public static KnobSpace space(Target target) {
        return new KnobSpace(new KernelSignature(KIND, "", target))
                .add(Knob.range("kernels", 1, 1, 64,
                        "decode launches of persistent kernels (GEMVs) run as one kernel with grid barriers between them, at most this many (1: none); CUDA only",
                        1, 2, 3, 4, 8));
    }

    /** The most launches one kernel runs that {@code knobs} give for {@code target} (1 where the target has no grid barriers). */
    public static int kernels(Knobs knobs, Target target) {
        if (!target.caps().gridBarrier()) return 1;
        KnobSpace s = space(target);
        return s.resolve(knobs.values(s.signature())).get("kernels");
    }

    /**
     * The knobs a fusing build schedules with: {@code knobs} with every kernel whose space has a ring of asynchronous
     * copies ({@code stages}, sm_90's default for the f16 GEMV) in its register loop, unless {@code knobs} set its
     * stages: a ring's dynamic shared memory does not fit a fused kernel's static arrays, so ringed GEMVs would not
     * fuse. {@code knobs} itself where {@code most} is below 2.
     */
    static Knobs forFusion(jmlc.compiler.ir.Graph graph, Target target, int maxSeq, Knobs knobs, int most) {
        if (most < 2) return knobs;
        Knobs out = Knobs.defaults().with(knobs);
        for (var t : Scheduler.schedule(graph, target, true, maxSeq, knobs).tunables())
            if (t.space().knobs().stream().anyMatch(k -> k.name().equals("stages")) && !knobs.values(t.space().signature()).containsKey("stages"))
                out.put(t.space().signature(), Map.of("stages", 0));
        return out;
    }

    /** {@code p} launched with runs of up to {@code most} consecutive persistent launches fused ({@code p} itself where none are). */
    public static Program fuse(Program p, Capabilities caps, int most) {
        if (most < 2 || !caps.gridBarrier()) return p;
        List<KernelCall> out = new ArrayList<>(), run = new ArrayList<>();
        for (KernelCall c : p.launched()) {
            if (!run.isEmpty() && (run.size() >= most || !joins(run, c, caps))) {
                flush(run, out, caps);
                run.clear();
            }
            if (fusable(c.kernel())) run.add(c);
            else out.add(c);
        }
        flush(run, out, caps);
        return out.size() == p.launched().size() ? p : p.withLaunched(out);
    }

    /** A persistent kernel with a constant grid, no grid barrier of its own and no thread that returns early. */
    static boolean fusable(Kernel k) {
        return k.tiles() > 0 && k.grid()[0] instanceof Expr.Const && !KernelCheck.holds(k.body(), Stmt.Return.class) && !k.gridBarriers();
    }

    /** Whether {@code c} can run after {@code run} in one kernel: the same block shape and grid rows, and shared memory that fits. */
    private static boolean joins(List<KernelCall> run, KernelCall c, Capabilities caps) {
        Kernel first = run.getFirst().kernel(), k = c.kernel();
        if (!fusable(k) || !Arrays.equals(first.block(), k.block()) || !first.grid()[1].equals(k.grid()[1]) || !first.grid()[2].equals(k.grid()[2])) return false;
        List<Kernel> all = new ArrayList<>(run.stream().map(KernelCall::kernel).toList());
        all.add(k);
        return overlaid(all).values().stream().mapToInt(Shared::bytes).sum() <= caps.maxSharedBytes();
    }

    private static void flush(List<KernelCall> run, List<KernelCall> out, Capabilities caps) {
        if (run.size() == 1) out.add(run.getFirst());
        else if (run.size() > 1) out.add(fused(run, caps));
    }

    /** A shared array's place in the overlay: the i-th array of this element type in its kernel. */
    private record Slot(KType element, int ordinal) {}

    /** The overlaid shared arrays: per slot, an array as large as the largest member array in it. */
    private static Map<Slot, Shared> overlaid(List<Kernel> kernels) {
        Map<Slot, Integer> size = new LinkedHashMap<>();
        for (Kernel k : kernels) slots(k).forEach((s, slot) -> size.merge(slot, s.size(), Math::max));
        Map<Slot, Shared> out = new LinkedHashMap<>();
        int i = 0;
        for (var e : size.entrySet()) out.put(e.getKey(), new Shared("smem" + i++, e.getKey().element(), e.getValue()));
        return out;
    }

    private static Map<Shared, Slot> slots(Kernel k) {
        Map<Shared, Slot> out = new LinkedHashMap<>();
        Map<KType, Integer> count = new HashMap<>();
        for (Shared s : k.shared()) out.put(s, new Slot(s.element(), count.merge(s.element(), 1, Integer::sum) - 1));
        return out;
    }

    /** A parameter of the fused kernel: an argument seen as one element type. */
    private record Param(Arg arg, KType element) {}

    /** One kernel running {@code run}'s calls in turn with a grid barrier between each two. */
    static KernelCall fused(List<KernelCall> run, Capabilities caps) {
        List<Kernel> members = run.stream().map(KernelCall::kernel).toList();
        // parameters: one per argument (and element type), read-only only where it is a weight or constant (Buffer.unchanging)
        // in every member: what one member reads another may have written before the barrier
        Map<Param, String> names = new LinkedHashMap<>();
        Map<Param, Boolean> unchanging = new HashMap<>();
        for (int i = 0; i < run.size(); i++) {
            Kernel k = members.get(i);
            for (int j = 0; j < k.buffers().size(); j++) {
                Buffer b = k.buffers().get(j);
                Param p = new Param(run.get(i).args().get(j), b.element());
                names.putIfAbsent(p, "k" + i + "_" + b.name());
                unchanging.merge(p, b.unchanging(), Boolean::logicalAnd);
            }
        }
        Map<Param, Buffer> params = new LinkedHashMap<>();
        names.forEach((p, n) -> params.put(p, new Buffer(n, p.element(), unchanging.get(p), unchanging.get(p))));
        Buffer counter = new Buffer("grid_barrier", KType.U32, false);
        Map<Slot, Shared> shared = overlaid(members);

        List<Stmt> body = new ArrayList<>();
        LinkedHashSet<Expr.Var> scalars = new LinkedHashSet<>();
        int grid = 0, tiles = 0;
        for (int i = 0; i < run.size(); i++) {
            Kernel k = members.get(i);
            Map<Buffer, Buffer> buffers = new HashMap<>();
            for (int j = 0; j < k.buffers().size(); j++)
                buffers.put(k.buffers().get(j), params.get(new Param(run.get(i).args().get(j), k.buffers().get(j).element())));
            Map<Shared, Shared> arrays = new HashMap<>();
            slots(k).forEach((s, slot) -> arrays.put(s, shared.get(slot)));
            Rebind rebind = new Rebind(buffers, arrays);
            body.add(new Stmt.Comment(k.name() + ": " + k.summary()));
            // the member's own statements in a block of their own; after the first member, those it runs before
            // waiting for its inputs (they read only weights: L2 prefetches, a first batch of weights in registers)
            // come before the grid barrier, so they overlap the wait for the slowest block
            List<Stmt> top = ((Stmt.Block) k.body()).body(), own = new ArrayList<>();
            Set<Buffer> weights = new HashSet<>();
            for (Buffer b : k.buffers()) if (b.unchanging()) weights.add(b);
            int wait = i == 0 ? -1 : weightsOnlyUntil(top, weights);
            for (int j = 0; j < top.size(); j++) {
                if (j == wait || (i > 0 && wait < 0 && j == 0)) own.add(new Stmt.GridBarrier(counter));
                if (!(top.get(j) instanceof Stmt.GridDependency)) own.add(rebind.stmt(top.get(j)));
            }
            body.add(new Stmt.Block(own));
            scalars.addAll(k.scalars());
            grid = Math.max(grid, (int) ((Expr.Const) k.grid()[0]).value());
            tiles = Math.max(tiles, k.tiles());
        }
        List<Buffer> buffers = new ArrayList<>(params.values());
        buffers.add(counter);
        List<Arg> args = new ArrayList<>(params.keySet().stream().map(Param::arg).toList());
        args.add(BARRIER_COUNTER);
        List<String> memberNames = members.stream().map(Kernel::name).toList();
        Kernel first = members.getFirst();
        Kernel k = Kernel.checked(name(memberNames), buffers, List.copyOf(scalars), List.copyOf(shared.values()), new Stmt.Block(body), first.block(),
                new Expr[] {new Expr.Const(KType.I32, grid), first.grid()[1], first.grid()[2]}, Map.of("kernels", run.size()),
                run.size() + " kernels in one launch, a grid barrier between each two: " + String.join(" | ", memberNames), tiles, caps);
        return new KernelCall(k, args);
    }

    /**
     * Where a kernel body's top level waits for the kernels before it ({@link Stmt.GridDependency.Kind#WAIT}):
     * what precedes may only read weights (the contract of programmatic dependent launch), so it may run before a
     * grid barrier too. Checked, not trusted: what precedes may touch no buffer but {@code weights} (no activation
     * another block writes before the barrier, no shared memory another member overlays), store nothing and
     * synchronize nothing. -1 where there is no such wait, or what precedes it does more.
     */
    static int weightsOnlyUntil(List<Stmt> top, Set<Buffer> weights) {
        for (int j = 0; j < top.size(); j++) {
            Stmt s = top.get(j);
            if (s instanceof Stmt.GridDependency g && g.kind() == Stmt.GridDependency.Kind.WAIT) return j;
            for (Class<? extends Stmt> writes : List.of(Stmt.Store.class, Stmt.SharedStore.class, Stmt.Barrier.class, Stmt.Return.class,
                    Stmt.TileStore.class, Stmt.TileLoad.class, Stmt.LdMatrix.class, Stmt.Mma.class))
                if (KernelCheck.holds(s, writes)) return -1;
            for (Object used : Rebind.uses(s)) if (!weights.contains(used)) return -1;
        }
        return -1;
    }

    /** {@code persistent<N>_<hash of the members' names>}: the members decide the kernel, so the same members, the same name. */
    static String name(List<String> members) {
        long h = 0xcbf29ce484222325L; // FNV-1a, 64 bits
        for (byte b : String.join(";", members).getBytes(java.nio.charset.StandardCharsets.UTF_8)) h = (h ^ (b & 0xff)) * 0x100000001b3L;
        return "persistent" + members.size() + "_" + Long.toHexString(h);
    }
}
