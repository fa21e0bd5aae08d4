package jmlc.compiler.kernel;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Static checks of a kernel body, run when a rule builds it, so mistakes fail in the compiler
 * with the kernel's name instead of in a GPU compiler: every variable is declared before it is
 * used, no name is declared twice where C would see both (same or enclosing scope), and the kernel
 * uses only what its target's {@link Capabilities} offer (statements, f16x2 arithmetic, shuffle
 * distances, block size and shared memory).
 */
public final class KernelCheck {
    private KernelCheck() {}

    public static void verify(Kernel k, Capabilities caps) {
        if (k.threadsPerBlock() > caps.maxThreadsPerBlock())
            throw new IllegalStateException("kernel " + k.name() + " has " + k.threadsPerBlock() + " threads a block; the target allows " + caps.maxThreadsPerBlock());
        if (k.sharedBytes() > caps.optInSharedBytes())
            throw new IllegalStateException("kernel " + k.name() + " needs " + k.sharedBytes() + " bytes of shared memory; the target allows "
                    + caps.maxSharedBytes() + (caps.optInSharedBytes() > caps.maxSharedBytes() ? " (" + caps.optInSharedBytes() + " opting in)" : ""));
        boolean[] readsByRank = {false};
        new Capable(k, caps, readsByRank).stmt(k.body());
        verify(k);
        gridBarriers(k);
        clusterBarriers(k, readsByRank[0]);
    }

    /**
     * Cluster barriers where every thread reaches them (as grid barriers: {@link #topLevelBarriers}), all of one cluster
     * shape, the last statement of a kernel that reads other blocks' shared memory one (a block must not leave while its
     * cluster may still read it), a constant grid a multiple of the cluster, and shared memory read by rank only in a
     * kernel launched in clusters.
     */
    static void clusterBarriers(Kernel k, boolean remote) {
        List<Stmt.ClusterBarrier> barriers = topLevelBarriers(k, Stmt.ClusterBarrier.class, "a cluster barrier", "its cluster");
        Stmt.ClusterBarrier shape = barriers.isEmpty() ? null : barriers.getFirst();
        for (Stmt.ClusterBarrier c : barriers)
            if (!c.equals(shape))
                throw new IllegalStateException("kernel " + k.name() + " has cluster barriers of two shapes, " + shape + " and " + c + ": a kernel is launched in one");
        if (remote && shape == null)
            throw new IllegalStateException("kernel " + k.name() + " reads another block's shared memory but has no cluster barrier: it is not launched in clusters");
        if (remote && !(outsideControlFlow(((Stmt.Block) k.body()).body()).getLast() instanceof Stmt.ClusterBarrier))
            throw new IllegalStateException("kernel " + k.name() + " reads other blocks' shared memory: it must end at a cluster barrier, so no block leaves while its cluster may still read it");
        if (shape != null) {
            int[] dims = {shape.x(), shape.y(), shape.z()};
            for (int i = 0; i < 3; i++)
                if (!(k.grid()[i] instanceof Expr.Const g) || (long) g.value() % dims[i] != 0)
                    throw new IllegalStateException("kernel " + k.name() + ": its grid's dimension " + i + " (" + k.grid()[i] + ") must be a constant multiple of its cluster's " + dims[i]);
        }
    }

    /**
     * Grid barriers where every thread reaches them ({@link #topLevelBarriers}), in a persistent kernel (its runtime may
     * launch as few blocks as stay resident), counting in one of its buffers.
     */
    static void gridBarriers(Kernel k) {
        List<Stmt.GridBarrier> barriers = topLevelBarriers(k, Stmt.GridBarrier.class, "a grid barrier", "the other blocks");
        for (Stmt.GridBarrier g : barriers)
            if (!k.buffers().contains(g.counter()))
                throw new IllegalStateException("kernel " + k.name() + ": its grid barrier counts in " + g.counter().name() + ", which is not one of its buffers");
        if (!barriers.isEmpty() && k.tiles() <= 0)
            throw new IllegalStateException("kernel " + k.name() + " has a grid barrier but no persistent tiles: its grid must be free to shrink to the blocks that stay resident");
    }

    /**
     * The barriers across blocks of class {@code kind} in {@code k}, in order: only outside loops and branches (at the
     * body's top level or in plain blocks, where every thread reaches them), and no thread returning before one
     * ({@code waiters}, the blocks it joins, would wait at it forever).
     */
    private static <B extends Stmt> List<B> topLevelBarriers(Kernel k, Class<B> kind, String what, String waiters) {
        List<B> found = new java.util.ArrayList<>();
        boolean returned = false;
        for (Stmt s : outsideControlFlow(((Stmt.Block) k.body()).body())) {
            if (kind.isInstance(s)) {
                if (returned) throw new IllegalStateException("kernel " + k.name() + " may return before " + what + ", which " + waiters + " would wait at forever");
                found.add(kind.cast(s));
            } else {
                if (holds(s, kind))
                    throw new IllegalStateException("kernel " + k.name() + " has " + what + " inside a loop or branch; it belongs where every thread reaches it (the body's top level or a plain block)");
                returned |= holds(s, Stmt.Return.class);
            }
        }
        return found;
    }

    /** {@code stmts} with plain blocks opened up, in order: the statements every thread that runs them reaches in turn. */
    public static List<Stmt> outsideControlFlow(List<Stmt> stmts) {
        List<Stmt> out = new java.util.ArrayList<>();
        for (Stmt s : stmts) {
            if (s instanceof Stmt.Block b) out.addAll(outsideControlFlow(b.body()));
            else out.add(s);
        }
        return out;
    }

    /** Whether {@code s} is, or holds in its loops, branches and blocks, a statement of {@code kind}. */
    public static boolean holds(Stmt s, Class<? extends Stmt> kind) {
        if (kind.isInstance(s)) return true;
        return switch (s) {
            case Stmt.Block b -> b.body().stream().anyMatch(x -> holds(x, kind));
            case Stmt.For f -> holds(f.body(), kind);
            case Stmt.If f -> holds(f.then(), kind) || holds(f.otherwise(), kind);
            default -> false;
        };
    }

    /** The scope checks alone (for kernels built without a target, such as the simulator's probes). */
    static void verify(Kernel k) {
        Deque<Set<String>> scopes = new ArrayDeque<>();
        Set<String> params = new HashSet<>();
        for (Expr.Var s : k.scalars()) params.add(s.name());
        for (Buffer b : k.buffers()) params.add(b.name());
        for (Shared s : k.shared()) params.add(s.name());
        scopes.push(params);
        scopes.push(new HashSet<>());
        stmt(k, k.body(), scopes);
    }

    private static void stmt(Kernel k, Stmt s, Deque<Set<String>> scopes) {
        switch (s) {
            case Stmt.Let l -> {
                expr(k, l.init(), scopes);
                declare(k, l.var().name(), scopes);
            }
            case Stmt.Assign a -> {
                use(k, a.var().name(), scopes);
                expr(k, a.value(), scopes);
            }
            case Stmt.Store st -> {
                expr(k, st.index(), scopes);
                expr(k, st.value(), scopes);
            }
            case Stmt.SharedStore st -> {
                expr(k, st.index(), scopes);
                expr(k, st.value(), scopes);
            }
            case Stmt.For f -> {
                expr(k, f.lo(), scopes);
                scopes.push(new HashSet<>());
                declare(k, f.index().name(), scopes);
                expr(k, f.hi(), scopes);
                expr(k, f.step(), scopes);
                block(k, f.body(), scopes);
                scopes.pop();
            }
            case Stmt.If f -> {
                expr(k, f.cond(), scopes);
                block(k, f.then(), scopes);
                block(k, f.otherwise(), scopes);
            }
            case Stmt.Block b -> block(k, b, scopes);
            case Stmt.Mma m -> {
                for (Expr.Var v : m.acc()) use(k, v.name(), scopes);
                for (Expr e : m.a()) expr(k, e, scopes);
                for (Expr e : m.b()) expr(k, e, scopes);
            }
            case Stmt.LdMatrix l -> {
                for (Expr.Var v : l.dst()) use(k, v.name(), scopes);
                expr(k, l.index(), scopes);
            }
            case Stmt.TileLoad t -> expr(k, t.index(), scopes);
            case Stmt.TileStore t -> expr(k, t.index(), scopes);
            case Stmt.TileFill t -> { }
            case Stmt.TileMma t -> { }
            case Stmt.Barrier b -> { }
            case Stmt.SubgroupBarrier b -> { }
            case Stmt.GridBarrier g -> { }
            case Stmt.ClusterBarrier c -> { }
            case Stmt.GridDependency g -> { }
            case Stmt.Prefetch p -> {
                expr(k, p.index(), scopes);
                if (p.bytes() != null) expr(k, p.bytes(), scopes);
            }
            case Stmt.AsyncCopy c -> {
                expr(k, c.dstIndex(), scopes);
                expr(k, c.srcIndex(), scopes);
            }
            case Stmt.AsyncCommit c -> { }
            case Stmt.AsyncWait w -> { }
            case Stmt.BulkCopy c -> {
                for (Expr e : List.of(c.dstIndex(), c.srcIndex(), c.count(), c.barIndex())) expr(k, e, scopes);
            }
            case Stmt.CopyBarrier c -> {
                expr(k, c.index(), scopes);
                if (c.arg() != null) expr(k, c.arg(), scopes);
            }
            case Stmt.Return r -> { }
            case Stmt.Comment c -> { }
        }
    }

    private static void block(Kernel k, Stmt s, Deque<Set<String>> scopes) {
        scopes.push(new HashSet<>());
        List<Stmt> body = s instanceof Stmt.Block b ? b.body() : List.of(s);
        for (Stmt x : body) stmt(k, x, scopes);
        scopes.pop();
    }

    private static void declare(Kernel k, String name, Deque<Set<String>> scopes) {
        for (Set<String> sc : scopes)
            if (sc.contains(name)) throw new IllegalStateException("kernel " + k.name() + " declares '" + name + "' twice (or shadows it)");
        scopes.peek().add(name);
    }

    private static void use(Kernel k, String name, Deque<Set<String>> scopes) {
        for (Set<String> sc : scopes) if (sc.contains(name)) return;
        throw new IllegalStateException("kernel " + k.name() + " uses '" + name + "' where it is not declared");
    }

    private static void expr(Kernel k, Expr e, Deque<Set<String>> scopes) {
        switch (e) {
            case Expr.Var v -> use(k, v.name(), scopes);
            case Expr.Binary b -> { expr(k, b.a(), scopes); expr(k, b.b(), scopes); }
            case Expr.Unary u -> expr(k, u.a(), scopes);
            case Expr.Fma f -> { expr(k, f.a(), scopes); expr(k, f.b(), scopes); expr(k, f.c(), scopes); }
            case Expr.Dot2 d -> { expr(k, d.a(), scopes); expr(k, d.b(), scopes); expr(k, d.c(), scopes); }
            case Expr.Dot4 d -> { expr(k, d.a(), scopes); expr(k, d.b(), scopes); expr(k, d.c(), scopes); }
            case Expr.Cast c -> expr(k, c.a(), scopes);
            case Expr.Bitcast c -> expr(k, c.a(), scopes);
            case Expr.Load l -> expr(k, l.index(), scopes);
            case Expr.SharedLoad l -> {
                expr(k, l.index(), scopes);
                if (l.rank() != null) expr(k, l.rank(), scopes);
            }
            case Expr.Lane l -> expr(k, l.vector(), scopes);
            case Expr.Pack p -> p.lanes().forEach(x -> expr(k, x, scopes));
            case Expr.HalfOf h -> expr(k, h.word(), scopes);
            case Expr.HalvesToWord h -> { expr(k, h.lo(), scopes); expr(k, h.hi(), scopes); }
            case Expr.Select s -> { expr(k, s.cond(), scopes); expr(k, s.a(), scopes); expr(k, s.b(), scopes); }
            case Expr.ShuffleXor s -> expr(k, s.value(), scopes);
            case Expr.Const c -> { }
            case Expr.Knob n -> { }
            case Expr.Builtin b -> { }
        }
    }

    /**
     * Rejects what the target lacks: a rule must ask for a capability before it emits the statement; notes in
     * {@code readsByRank} whether the kernel reads another block's shared memory.
     */
    private record Capable(Kernel k, Capabilities caps, boolean[] readsByRank) {
        void stmt(Stmt s) {
            switch (s) {
                case Stmt.Let l -> expr(l.init());
                case Stmt.Assign a -> expr(a.value());
                case Stmt.Store st -> { expr(st.index()); expr(st.value()); }
                case Stmt.SharedStore st -> { expr(st.index()); expr(st.value()); }
                case Stmt.For f -> { expr(f.lo()); expr(f.hi()); expr(f.step()); stmt(f.body()); }
                case Stmt.If f -> { expr(f.cond()); stmt(f.then()); stmt(f.otherwise()); }
                case Stmt.Block b -> b.body().forEach(this::stmt);
                case Stmt.Mma m -> {
                    need(caps.matrix() == m.unit(), m.unit() == Capabilities.MatrixUnit.MMA_M16N8K16 ? "mma.sync m16n8k16" : "the matrix unit " + m.unit());
                    m.a().forEach(this::expr);
                    m.b().forEach(this::expr);
                }
                case Stmt.LdMatrix l -> { need(caps.ldmatrix(), "ldmatrix"); expr(l.index()); }
                case Stmt.TileLoad t -> { tiles(); expr(t.index()); }
                case Stmt.TileStore t -> { tiles(); expr(t.index()); }
                case Stmt.TileFill t -> tiles();
                case Stmt.TileMma t -> tiles();
                case Stmt.GridDependency g -> need(caps.gridDependency(), "programmatic dependent launch (grid dependency)");
                case Stmt.Prefetch p -> {
                    need(caps.prefetchL2(), "L2 prefetch");
                    if (p.bytes() != null) {
                        need(caps.bulk(), "bulk L2 prefetches (cp.async.bulk.prefetch)");
                        expr(p.bytes());
                    }
                    expr(p.index());
                }
                case Stmt.AsyncCopy c -> { need(caps.asyncCopy(), "asynchronous copies to shared memory (cp.async)"); expr(c.dstIndex()); expr(c.srcIndex()); }
                case Stmt.AsyncCommit c -> need(caps.asyncCopy(), "asynchronous copies to shared memory (cp.async)");
                case Stmt.AsyncWait w -> need(caps.asyncCopy(), "asynchronous copies to shared memory (cp.async)");
                case Stmt.BulkCopy c -> {
                    need(caps.bulk(), "bulk copies to shared memory (cp.async.bulk)");
                    for (Expr e : List.of(c.dstIndex(), c.srcIndex(), c.count(), c.barIndex())) expr(e);
                }
                case Stmt.CopyBarrier c -> {
                    need(caps.bulk(), "copy barriers (mbarrier)");
                    expr(c.index());
                    if (c.arg() != null) expr(c.arg());
                }
                case Stmt.Barrier b -> { }
                case Stmt.SubgroupBarrier b -> { }
                case Stmt.GridBarrier g -> need(caps.gridBarrier(), "grid barriers (a cooperative launch)");
                case Stmt.ClusterBarrier c -> need(caps.clusters(), "thread block clusters (barrier.cluster)");
                case Stmt.Return r -> { }
                case Stmt.Comment c -> { }
            }
        }

        void expr(Expr e) {
            if (e.type().equals(KType.F16X2) && (e instanceof Expr.Binary || e instanceof Expr.Fma))
                need(caps.f16Arithmetic(), "f16x2 arithmetic");
            switch (e) {
                case Expr.ShuffleXor s -> {
                    if (s.mask() >= caps.subgroupSize())
                        throw new IllegalStateException("kernel " + k.name() + " shuffles across lane distance " + s.mask() + "; the target's subgroups have " + caps.subgroupSize() + " lanes");
                    expr(s.value());
                }
                case Expr.Binary b -> { expr(b.a()); expr(b.b()); }
                case Expr.Unary u -> expr(u.a());
                case Expr.Fma f -> { expr(f.a()); expr(f.b()); expr(f.c()); }
                case Expr.Dot2 d -> { need(caps.dot2(), "dot2 (v_dot2_f32_f16)"); expr(d.a()); expr(d.b()); expr(d.c()); }
                case Expr.Dot4 d -> { need(caps.dot4(), "dot4 (a signed 4 x 8-bit integer dot product)"); expr(d.a()); expr(d.b()); expr(d.c()); }
                case Expr.Cast c -> expr(c.a());
                case Expr.Bitcast c -> expr(c.a());
                case Expr.Load l -> expr(l.index());
                case Expr.SharedLoad l -> {
                    if (l.rank() != null) {
                        readsByRank[0] = true;
                        need(caps.clusters(), "loads from another block's shared memory (a cluster's distributed shared memory)");
                        expr(l.rank());
                    }
                    expr(l.index());
                }
                case Expr.Lane l -> expr(l.vector());
                case Expr.Pack p -> p.lanes().forEach(this::expr);
                case Expr.HalfOf h -> expr(h.word());
                case Expr.HalvesToWord h -> { expr(h.lo()); expr(h.hi()); }
                case Expr.Select s -> { expr(s.cond()); expr(s.a()); expr(s.b()); }
                case Expr.Const c -> { }
                case Expr.Knob n -> { }
                case Expr.Var v -> { }
                case Expr.Builtin b -> { }
            }
        }

        void tiles() {
            need(caps.matrix().opaque(), "cooperative matrix tiles");
        }

        void need(boolean present, String what) {
            if (!present) throw new IllegalStateException("kernel " + k.name() + " uses " + what + ", which the target lacks: the rule must ask for the capability and fall back");
        }
    }
}
