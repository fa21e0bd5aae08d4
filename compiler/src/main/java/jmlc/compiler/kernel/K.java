package jmlc.compiler.kernel;

import java.util.ArrayList;
import java.util.List;

/**
 * Short constructors for writing kernels in Java that read like the kernel:
 * {@code add(mul(tid(), c(4)), v)}. Rules use these; emitters print the result.
 */
public final class K {
    private K() {}

    public static Expr.Const c(int v) {
        return new Expr.Const(KType.I32, v);
    }

    public static Expr.Const u(long v) {
        return new Expr.Const(KType.U32, v);
    }

    public static Expr.Const f(double v) {
        return new Expr.Const(KType.F32, v);
    }

    /** Knob {@code name}'s value {@code v} in arithmetic: a specialization constant where the target has them ({@link Expr.Knob}). */
    public static Expr.Knob knob(String name, int v) {
        return new Expr.Knob(name, v);
    }

    public static Expr.Var var(String name, KType t) {
        return new Expr.Var(name, t);
    }

    public static Expr tid(int axis) {
        return new Expr.Builtin(Expr.Builtin.Kind.THREAD, axis);
    }

    public static Expr bid(int axis) {
        return new Expr.Builtin(Expr.Builtin.Kind.BLOCK, axis);
    }

    public static Expr bdim(int axis) {
        return new Expr.Builtin(Expr.Builtin.Kind.BLOCK_DIM, axis);
    }

    public static Expr gdim(int axis) {
        return new Expr.Builtin(Expr.Builtin.Kind.GRID_DIM, axis);
    }

    private static Expr bin(Expr.BinOp op, Expr a, Expr b) {
        return new Expr.Binary(op, a, b);
    }

    public static Expr add(Expr a, Expr b) { return bin(Expr.BinOp.ADD, a, b); }
    public static Expr sub(Expr a, Expr b) { return bin(Expr.BinOp.SUB, a, b); }
    public static Expr mul(Expr a, Expr b) { return bin(Expr.BinOp.MUL, a, b); }
    public static Expr div(Expr a, Expr b) { return bin(Expr.BinOp.DIV, a, b); }
    public static Expr mod(Expr a, Expr b) { return bin(Expr.BinOp.MOD, a, b); }
    public static Expr shl(Expr a, Expr b) { return bin(Expr.BinOp.SHL, a, b); }
    public static Expr shr(Expr a, Expr b) { return bin(Expr.BinOp.SHR, a, b); }
    public static Expr and(Expr a, Expr b) { return bin(Expr.BinOp.AND, a, b); }
    public static Expr or(Expr a, Expr b) { return bin(Expr.BinOp.OR, a, b); }
    public static Expr xor(Expr a, Expr b) { return bin(Expr.BinOp.XOR, a, b); }
    public static Expr lt(Expr a, Expr b) { return bin(Expr.BinOp.LT, a, b); }
    public static Expr le(Expr a, Expr b) { return bin(Expr.BinOp.LE, a, b); }
    public static Expr gt(Expr a, Expr b) { return bin(Expr.BinOp.GT, a, b); }
    public static Expr ge(Expr a, Expr b) { return bin(Expr.BinOp.GE, a, b); }
    public static Expr eq(Expr a, Expr b) { return bin(Expr.BinOp.EQ, a, b); }
    public static Expr land(Expr a, Expr b) { return bin(Expr.BinOp.LAND, a, b); }
    public static Expr lor(Expr a, Expr b) { return bin(Expr.BinOp.LOR, a, b); }
    public static Expr min(Expr a, Expr b) { return bin(Expr.BinOp.MIN, a, b); }
    public static Expr max(Expr a, Expr b) { return bin(Expr.BinOp.MAX, a, b); }

    public static Expr fma(Expr a, Expr b, Expr c) {
        return new Expr.Fma(a, b, c);
    }

    /** {@code c + a.lo · b.lo + a.hi · b.hi} over two f16 pairs, in f32 ({@link Expr.Dot2}). */
    public static Expr dot2(Expr a, Expr b, Expr c) {
        return new Expr.Dot2(a, b, c);
    }

    /** {@code c + Σ a.byte[i] · b.byte[i]}, signed bytes into i32 ({@link Expr.Dot4}). */
    public static Expr dot4(Expr a, Expr b, Expr c) {
        return new Expr.Dot4(a, b, c);
    }

    public static Expr neg(Expr a) { return new Expr.Unary(Expr.UnOp.NEG, a); }
    public static Expr exp(Expr a) { return new Expr.Unary(Expr.UnOp.EXP, a); }
    public static Expr rsqrt(Expr a) { return new Expr.Unary(Expr.UnOp.RSQRT, a); }
    public static Expr sqrt(Expr a) { return new Expr.Unary(Expr.UnOp.SQRT, a); }
    public static Expr abs(Expr a) { return new Expr.Unary(Expr.UnOp.ABS, a); }

    public static Expr cast(KType t, Expr a) {
        return a.type().equals(t) ? a : new Expr.Cast(t, a);
    }

    public static Expr bitcast(KType t, Expr a) {
        return new Expr.Bitcast(t, a);
    }

    public static Expr load(Buffer b, Expr index) {
        return new Expr.Load(b, index, b.element());
    }

    public static Expr load(Buffer b, Expr index, KType t) {
        return new Expr.Load(b, index, t);
    }

    /** Element {@code index} of an f16 or f32 buffer as f32. */
    public static Expr loadF32(Buffer b, Expr index) {
        return cast(KType.F32, load(b, index));
    }

    public static Expr sload(Shared s, Expr index) {
        return new Expr.SharedLoad(s, index);
    }

    /** Element {@code index} of the shared array {@code s} of the block of rank {@code rank} in this block's cluster. */
    public static Expr sloadCluster(Shared s, Expr rank, Expr index) {
        return new Expr.SharedLoad(s, index, rank);
    }

    public static Expr lane(Expr v, int i) {
        return new Expr.Lane(v, i);
    }

    public static Expr halfOf(Expr word, boolean high) {
        return new Expr.HalfOf(word, high);
    }

    /** Two f32 values rounded to f16 and packed into one u32 register. */
    public static Expr halves(Expr lo, Expr hi) {
        return new Expr.HalvesToWord(cast(KType.F16, lo), cast(KType.F16, hi));
    }

    public static Expr select(Expr c, Expr a, Expr b) {
        return new Expr.Select(c, a, b);
    }

    public static Expr shflXor(Expr v, int mask) {
        return new Expr.ShuffleXor(v, mask);
    }

    /** Collects statements in order; nested blocks via {@link #block}. */
    public static final class Body {
        private final List<Stmt> stmts = new ArrayList<>();
        private int fresh;

        public Expr.Var let(String name, Expr init) {
            Expr.Var v = new Expr.Var(name, init.type());
            stmts.add(new Stmt.Let(v, init));
            return v;
        }

        /** A fresh name from a prefix, for values made in Java loops ({@code w0, w1 ...}). */
        public String fresh(String prefix) {
            return prefix + fresh++;
        }

        public void assign(Expr.Var v, Expr e) {
            stmts.add(new Stmt.Assign(v, e));
        }

        public void store(Buffer b, Expr index, Expr value) {
            stmts.add(new Stmt.Store(b, index, value));
        }

        /** Stores an f32 value into an f32 or f16 buffer, converting. */
        public void storeF(Buffer b, Expr index, Expr value) {
            stmts.add(new Stmt.Store(b, index, cast(b.element(), value)));
        }

        public void sstore(Shared s, Expr index, Expr value) {
            stmts.add(new Stmt.SharedStore(s, index, value));
        }

        public void barrier() {
            stmts.add(new Stmt.Barrier());
        }

        /** {@link Stmt.SubgroupBarrier}. */
        public void subgroupBarrier() {
            stmts.add(new Stmt.SubgroupBarrier());
        }

        /** A grid barrier counting in {@code counter} (outside loops and branches of a persistent kernel: {@link Stmt.GridBarrier}). */
        public void gridBarrier(Buffer counter) {
            stmts.add(new Stmt.GridBarrier(counter));
        }

        /** A barrier across this block's cluster of {@code x * y * z} blocks (at the body's top level: {@link Stmt.ClusterBarrier}). */
        public void clusterBarrier(int x, int y, int z) {
            stmts.add(new Stmt.ClusterBarrier(x, y, z));
        }

        public void ret() {
            stmts.add(new Stmt.Return());
        }

        public void mma(List<Expr.Var> acc, List<Expr> a, List<Expr> b) {
            stmts.add(new Stmt.Mma(acc, a, b));
        }

        /** A matrix step of {@code unit} ({@link Stmt.Mma}). */
        public void mma(Capabilities.MatrixUnit unit, List<Expr.Var> acc, List<Expr> a, List<Expr> b) {
            stmts.add(new Stmt.Mma(unit, acc, a, b));
        }

        /** {@link Stmt.TileFill}. */
        public void tileFill(MatrixTile acc, float value) {
            stmts.add(new Stmt.TileFill(acc, value));
        }

        /** {@link Stmt.TileLoad}. */
        public void tileLoad(MatrixTile tile, Shared array, Expr index, int stride, boolean columnMajor) {
            stmts.add(new Stmt.TileLoad(tile, array, index, stride, columnMajor));
        }

        /** {@link Stmt.TileMma}. */
        public void tileMma(MatrixTile acc, MatrixTile a, MatrixTile b) {
            stmts.add(new Stmt.TileMma(acc, a, b));
        }

        /** {@link Stmt.TileStore}. */
        public void tileStore(MatrixTile acc, Shared array, Expr index, int stride) {
            stmts.add(new Stmt.TileStore(acc, array, index, stride));
        }

        public void ldmatrix(List<Expr.Var> dst, Shared array, Expr index) {
            stmts.add(new Stmt.LdMatrix(dst, array, index));
        }

        public void gridDependency(Stmt.GridDependency.Kind kind) {
            stmts.add(new Stmt.GridDependency(kind));
        }

        public void prefetch(Buffer b, Expr index) {
            stmts.add(new Stmt.Prefetch(b, index));
        }

        /** Prefetches {@code bytes} (a multiple of 16, from a 16-byte aligned element) of {@code b} from {@code index} into L2. */
        public void prefetchRange(Buffer b, Expr index, Expr bytes) {
            stmts.add(new Stmt.Prefetch(b, index, bytes));
        }

        /** {@link Stmt.AsyncCopy}: {@code dst[dstIndex] = src[srcIndex]} (read as dst's element type), landing at a later {@link #asyncWait}. */
        public void asyncCopy(Shared dst, Expr dstIndex, Buffer src, Expr srcIndex) {
            stmts.add(new Stmt.AsyncCopy(dst, dstIndex, src, srcIndex));
        }

        /** {@link Stmt.AsyncCopy} of {@code count} consecutive elements: {@code dst[dstIndex + e] = src[srcIndex + e]}, {@code e < count}. */
        public void asyncCopy(Shared dst, Expr dstIndex, Buffer src, Expr srcIndex, int count) {
            stmts.add(new Stmt.AsyncCopy(dst, dstIndex, src, srcIndex, count));
        }

        /** {@link Stmt.AsyncCommit}. */
        public void asyncCommit() {
            stmts.add(new Stmt.AsyncCommit());
        }

        /** {@link Stmt.AsyncWait}: at most {@code pending} of this thread's latest groups still in flight. */
        public void asyncWait(int pending) {
            stmts.add(new Stmt.AsyncWait(pending));
        }

        /** {@link Stmt.CopyBarrier} {@code INIT}: {@code bars[index]} set up for one arrival a phase. */
        public void copyBarrierInit(Shared bars, Expr index) {
            stmts.add(new Stmt.CopyBarrier(Stmt.CopyBarrier.Op.INIT, bars, index, null));
        }

        /** {@link Stmt.CopyBarrier} {@code EXPECT}: this thread arrives at {@code bars[index]}, whose phase now awaits {@code bytes} of bulk copies. */
        public void copyBarrierExpect(Shared bars, Expr index, Expr bytes) {
            stmts.add(new Stmt.CopyBarrier(Stmt.CopyBarrier.Op.EXPECT, bars, index, bytes));
        }

        /** {@link Stmt.CopyBarrier} {@code WAIT}: until the last phase of {@code bars[index]} of parity {@code parity} has completed. */
        public void copyBarrierWait(Shared bars, Expr index, Expr parity) {
            stmts.add(new Stmt.CopyBarrier(Stmt.CopyBarrier.Op.WAIT, bars, index, parity));
        }

        /** {@link Stmt.BulkCopy}: {@code count} elements {@code src[srcIndex ...]} to {@code dst[dstIndex ...]}, completing on {@code bars[barIndex]}. */
        public void bulkCopy(Shared dst, Expr dstIndex, Buffer src, Expr srcIndex, Expr count, Shared bars, Expr barIndex) {
            stmts.add(new Stmt.BulkCopy(dst, dstIndex, src, srcIndex, count, bars, barIndex));
        }

        /** Statements collected so far (for rules that wrap what they wrote). */
        public List<Stmt> statements() {
            return stmts;
        }

        public void comment(String text) {
            stmts.add(new Stmt.Comment(text));
        }

        public void add(Stmt s) {
            stmts.add(s);
        }

        public void forRange(Expr.Var i, Expr lo, Expr hi, Expr step, int unroll, java.util.function.Consumer<Body> body) {
            Body b = new Body();
            b.fresh = fresh;
            body.accept(b);
            fresh = b.fresh;
            stmts.add(new Stmt.For(i, lo, hi, step, unroll, b.build()));
        }

        /** A nested block: its own scope. */
        public void block(java.util.function.Consumer<Body> inner) {
            Body b = new Body();
            b.fresh = fresh;
            inner.accept(b);
            fresh = b.fresh;
            stmts.add(b.build());
        }

        public void ifThen(Expr cond, java.util.function.Consumer<Body> then) {
            Body b = new Body();
            b.fresh = fresh;
            then.accept(b);
            fresh = b.fresh;
            stmts.add(new Stmt.If(cond, b.build(), new Stmt.Block(List.of())));
        }

        public Stmt.Block build() {
            return new Stmt.Block(stmts);
        }
    }
}
