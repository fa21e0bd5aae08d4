package jmlc.compiler.codegen;

import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.Stmt;

import java.util.List;

/**
 * What the C-like code generators (CUDA and HIP C, GLSL) print alike: loops, branches and blocks,
 * two spaces an indent, around the statements each prints its own way ({@link #leaf}).
 */
abstract class StructuredCode {
    /** A statement other than a loop, a branch or a block, indented by {@code ind}. */
    abstract void leaf(StringBuilder sb, Stmt s, String ind);

    abstract String expr(Expr e);

    /** A variable's name in the generated code. */
    abstract String varName(Expr.Var v);

    /** A variable's type in the generated code. */
    abstract String varType(Expr.Var v);

    /** The line before a loop asking the compiler to unroll it or not (without its newline), or "" for none. */
    abstract String unrollHint(Stmt.For f);

    final void stmts(StringBuilder sb, List<Stmt> list, int depth) {
        for (Stmt s : list) stmt(sb, s, depth);
    }

    final void stmt(StringBuilder sb, Stmt s, int depth) {
        String ind = "  ".repeat(depth);
        switch (s) {
            case Stmt.For f -> {
                String hint = unrollHint(f);
                if (!hint.isEmpty()) sb.append(ind).append(hint).append('\n');
                String i = varName(f.index());
                sb.append(ind).append("for (").append(varType(f.index())).append(' ').append(i).append(" = ").append(expr(f.lo())).append("; ")
                        .append(i).append(" < ").append(expr(f.hi())).append("; ").append(i).append(" += ").append(expr(f.step())).append(") {\n");
                stmts(sb, body(f.body()), depth + 1);
                sb.append(ind).append("}\n");
            }
            case Stmt.If f -> {
                sb.append(ind).append("if (").append(expr(f.cond())).append(") {\n");
                stmts(sb, body(f.then()), depth + 1);
                List<Stmt> other = body(f.otherwise());
                if (!other.isEmpty()) {
                    sb.append(ind).append("} else {\n");
                    stmts(sb, other, depth + 1);
                }
                sb.append(ind).append("}\n");
            }
            case Stmt.Block b -> {
                sb.append(ind).append("{\n");
                stmts(sb, b.body(), depth + 1);
                sb.append(ind).append("}\n");
            }
            default -> leaf(sb, s, ind);
        }
    }

    /** A loop's or branch's statements: a block's, or the one statement. */
    static List<Stmt> body(Stmt s) {
        return s instanceof Stmt.Block b ? b.body() : List.of(s);
    }
}
