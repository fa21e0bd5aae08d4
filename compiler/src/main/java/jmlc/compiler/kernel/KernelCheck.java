package jmlc.compiler.kernel;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Static checks of a kernel body, run when a rule builds it, so mistakes fail in the compiler
 * with the kernel's name instead of in a GPU compiler: every variable is declared before it is
 * used, and no name is declared twice where C would see both (same or enclosing scope).
 */
public final class KernelCheck {
    private KernelCheck() {}

    public static void verify(Kernel k) {
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
            case Stmt.Barrier b -> { }
            case Stmt.GridDependency g -> { }
            case Stmt.Prefetch p -> expr(k, p.index(), scopes);
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
            case Expr.Cast c -> expr(k, c.a(), scopes);
            case Expr.Bitcast c -> expr(k, c.a(), scopes);
            case Expr.Load l -> expr(k, l.index(), scopes);
            case Expr.SharedLoad l -> expr(k, l.index(), scopes);
            case Expr.Lane l -> expr(k, l.vector(), scopes);
            case Expr.Pack p -> p.lanes().forEach(x -> expr(k, x, scopes));
            case Expr.HalfOf h -> expr(k, h.word(), scopes);
            case Expr.HalvesToWord h -> { expr(k, h.lo(), scopes); expr(k, h.hi(), scopes); }
            case Expr.Select s -> { expr(k, s.cond(), scopes); expr(k, s.a(), scopes); expr(k, s.b(), scopes); }
            case Expr.ShuffleXor s -> expr(k, s.value(), scopes);
            case Expr.Const c -> { }
            case Expr.Builtin b -> { }
        }
    }
}
