package jmlc.compiler.kernel;

import java.util.Map;

/** Evaluates a kernel's grid expressions on the host, where launch sizes depend on {@code seq}. */
public final class GridEval {
    private GridEval() {}

    public static int[] grid(Kernel k, Map<String, Integer> scalars) {
        int[] g = new int[3];
        for (int i = 0; i < 3; i++) {
            g[i] = eval(k.grid()[i], scalars);
            if (g[i] <= 0) throw new IllegalArgumentException("kernel " + k.name() + ": grid dimension " + i + " is " + g[i] + " for " + scalars);
        }
        return g;
    }

    public static int eval(Expr e, Map<String, Integer> scalars) {
        return switch (e) {
            case Expr.Const c -> (int) c.value();
            case Expr.Knob n -> n.value();
            case Expr.Var v -> {
                Integer x = scalars.get(v.name());
                if (x == null) throw new IllegalArgumentException("grid expression needs scalar '" + v.name() + "'");
                yield x;
            }
            case Expr.Binary b -> {
                int x = eval(b.a(), scalars), y = eval(b.b(), scalars);
                yield switch (b.op()) {
                    case ADD -> x + y;
                    case SUB -> x - y;
                    case MUL -> x * y;
                    case DIV -> x / y;
                    case MOD -> x % y;
                    case MIN -> Math.min(x, y);
                    case MAX -> Math.max(x, y);
                    default -> throw new IllegalArgumentException("grid expressions use + - * / % min max, not " + b.op());
                };
            }
            default -> throw new IllegalArgumentException("not a grid expression: " + e);
        };
    }
}
