package jmlc.compiler.kernel;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A kernel body with some of its buffers and shared arrays replaced by others of the same element
 * type, everything else as it was: how a fused kernel takes in the bodies of the kernels it runs
 * (their parameters and shared arrays renamed, merged or overlaid). Locals keep their names; a body
 * taken in as its own block keeps them in its own scope.
 */
public final class Rebind {
    private final UnaryOperator<Buffer> buffers;
    private final UnaryOperator<Shared> shared;

    /** Replaces each key of {@code buffers} and of {@code shared} by its value; others stay. */
    public Rebind(Map<Buffer, Buffer> buffers, Map<Shared, Shared> shared) {
        for (var e : buffers.entrySet())
            if (!e.getKey().element().equals(e.getValue().element()))
                throw new IllegalArgumentException("buffer " + e.getKey().name() + " (" + e.getKey().element() + ") cannot become " + e.getValue().name() + " (" + e.getValue().element() + ")");
        for (var e : shared.entrySet())
            if (!e.getKey().element().equals(e.getValue().element()) || e.getValue().size() < e.getKey().size())
                throw new IllegalArgumentException("shared " + e.getKey() + " cannot become " + e.getValue() + ": another element type, or smaller");
        Map<Buffer, Buffer> b = Map.copyOf(buffers);
        Map<Shared, Shared> sh = Map.copyOf(shared);
        this.buffers = x -> b.getOrDefault(x, x);
        this.shared = x -> sh.getOrDefault(x, x);
    }

    private Rebind(UnaryOperator<Buffer> buffers, UnaryOperator<Shared> shared) {
        this.buffers = buffers;
        this.shared = shared;
    }

    /** The buffers and shared arrays {@code s} reads or writes, in order of appearance (a walk that changes nothing). */
    public static java.util.Set<Object> uses(Stmt s) {
        java.util.Set<Object> seen = new java.util.LinkedHashSet<>();
        new Rebind(b -> {
            seen.add(b);
            return b;
        }, a -> {
            seen.add(a);
            return a;
        }).stmt(s);
        return seen;
    }

    private Buffer buffer(Buffer b) {
        return buffers.apply(b);
    }

    private Shared array(Shared s) {
        return shared.apply(s);
    }

    private List<Expr> exprs(List<? extends Expr> es) {
        return es.stream().map(this::expr).toList();
    }

    public Stmt stmt(Stmt s) {
        return switch (s) {
            case Stmt.Let l -> new Stmt.Let(l.var(), expr(l.init()));
            case Stmt.Assign a -> new Stmt.Assign(a.var(), expr(a.value()));
            case Stmt.Store st -> new Stmt.Store(buffer(st.buffer()), expr(st.index()), expr(st.value()));
            case Stmt.SharedStore st -> new Stmt.SharedStore(array(st.array()), expr(st.index()), expr(st.value()));
            case Stmt.For f -> new Stmt.For(f.index(), expr(f.lo()), expr(f.hi()), expr(f.step()), f.unroll(), stmt(f.body()));
            case Stmt.If f -> new Stmt.If(expr(f.cond()), stmt(f.then()), stmt(f.otherwise()));
            case Stmt.Block b -> new Stmt.Block(b.body().stream().map(this::stmt).toList());
            case Stmt.Mma m -> new Stmt.Mma(m.unit(), m.acc(), exprs(m.a()), exprs(m.b()));
            case Stmt.TileLoad t -> new Stmt.TileLoad(t.tile(), array(t.array()), expr(t.index()), t.stride(), t.columnMajor());
            case Stmt.TileStore t -> new Stmt.TileStore(t.acc(), array(t.array()), expr(t.index()), t.stride());
            case Stmt.LdMatrix l -> new Stmt.LdMatrix(l.dst(), array(l.array()), expr(l.index()));
            case Stmt.GridBarrier g -> new Stmt.GridBarrier(buffer(g.counter()));
            case Stmt.Prefetch p -> new Stmt.Prefetch(buffer(p.buffer()), expr(p.index()), p.bytes() == null ? null : expr(p.bytes()));
            case Stmt.AsyncCopy c -> new Stmt.AsyncCopy(array(c.dst()), expr(c.dstIndex()), buffer(c.src()), expr(c.srcIndex()), c.count());
            case Stmt.BulkCopy c -> new Stmt.BulkCopy(array(c.dst()), expr(c.dstIndex()), buffer(c.src()), expr(c.srcIndex()), expr(c.count()), array(c.bars()), expr(c.barIndex()));
            case Stmt.CopyBarrier c -> new Stmt.CopyBarrier(c.op(), array(c.bars()), expr(c.index()), c.arg() == null ? null : expr(c.arg()));
            case Stmt.TileFill _, Stmt.TileMma _, Stmt.Barrier _, Stmt.SubgroupBarrier _, Stmt.ClusterBarrier _, Stmt.Return _, Stmt.GridDependency _, Stmt.Comment _,
                 Stmt.AsyncCommit _, Stmt.AsyncWait _ -> s;
        };
    }

    public Expr expr(Expr e) {
        return switch (e) {
            case Expr.Binary b -> new Expr.Binary(b.op(), expr(b.a()), expr(b.b()));
            case Expr.Unary u -> new Expr.Unary(u.op(), expr(u.a()));
            case Expr.Fma f -> new Expr.Fma(expr(f.a()), expr(f.b()), expr(f.c()));
            case Expr.Dot2 d -> new Expr.Dot2(expr(d.a()), expr(d.b()), expr(d.c()));
            case Expr.Dot4 d -> new Expr.Dot4(expr(d.a()), expr(d.b()), expr(d.c()));
            case Expr.Cast c -> new Expr.Cast(c.type(), expr(c.a()));
            case Expr.Bitcast c -> new Expr.Bitcast(c.type(), expr(c.a()));
            case Expr.Load l -> new Expr.Load(buffer(l.buffer()), expr(l.index()), l.type());
            case Expr.SharedLoad l -> new Expr.SharedLoad(array(l.array()), expr(l.index()), l.rank() == null ? null : expr(l.rank()));
            case Expr.Lane l -> new Expr.Lane(expr(l.vector()), l.lane());
            case Expr.Pack p -> new Expr.Pack(p.type(), exprs(p.lanes()));
            case Expr.HalfOf h -> new Expr.HalfOf(expr(h.word()), h.high());
            case Expr.HalvesToWord h -> new Expr.HalvesToWord(expr(h.lo()), expr(h.hi()));
            case Expr.Select s -> new Expr.Select(expr(s.cond()), expr(s.a()), expr(s.b()));
            case Expr.ShuffleXor s -> new Expr.ShuffleXor(expr(s.value()), s.mask());
            case Expr.Const _, Expr.Knob _, Expr.Var _, Expr.Builtin _ -> e;
        };
    }
}
