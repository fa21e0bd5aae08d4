package jmlc.compiler.kernel;

import java.util.List;

/** Statements of the kernel IR: structured control flow over locals, buffers and shared arrays. */
public sealed interface Stmt {

    /** Declares {@code var} with an initial value. */
    record Let(Expr.Var var, Expr init) implements Stmt {
        public Let {
            if (!var.type().equals(init.type())) throw new IllegalArgumentException("let " + var.name() + ": " + var.type() + " = " + init.type());
        }
    }

    record Assign(Expr.Var var, Expr value) implements Stmt {
        public Assign {
            if (!var.type().equals(value.type())) throw new IllegalArgumentException("assign " + var.name() + ": " + var.type() + " = " + value.type());
        }
    }

    /** {@code buffer[index] = value}, index in units of the value's type. */
    record Store(Buffer buffer, Expr index, Expr value) implements Stmt {
        public Store {
            if (buffer.readOnly()) throw new IllegalArgumentException("buffer " + buffer.name() + " is read-only");
            if (!value.type().element().equals(buffer.element()))
                throw new IllegalArgumentException("cannot store " + value.type() + " into " + buffer.element() + " buffer " + buffer.name());
        }
    }

    record SharedStore(Shared array, Expr index, Expr value) implements Stmt {
        public SharedStore {
            if (!value.type().equals(array.element())) throw new IllegalArgumentException("cannot store " + value.type() + " into " + array);
        }
    }

    /** {@code for (i = lo; i < hi; i += step)}; {@code unroll} > 1 asks the compiler to unroll. */
    record For(Expr.Var index, Expr lo, Expr hi, Expr step, int unroll, Stmt body) implements Stmt {}

    record If(Expr cond, Stmt then, Stmt otherwise) implements Stmt {
        public If {
            if (cond.type() != KType.BOOL && !cond.type().equals(KType.BOOL)) throw new IllegalArgumentException("if needs a bool, found " + cond.type());
        }
    }

    record Block(List<Stmt> body) implements Stmt {
        public Block {
            body = List.copyOf(body);
        }
    }

    /** All threads of the block wait here; shared-memory writes before are visible after. */
    record Barrier() implements Stmt {}

    /** Leaves the kernel for this thread (only before any barrier the others still reach). */
    record Return() implements Stmt {}

    /** A comment carried into the generated source. */
    record Comment(String text) implements Stmt {}
}
