package jmlc.compiler.kernel;

/**
 * Expressions of the kernel IR. Every expression knows its type; constructors check operand
 * types so a rule that builds a wrong kernel fails when it is built, not in a GPU compiler.
 */
public sealed interface Expr {

    KType type();

    /** An integer or float constant. */
    record Const(KType type, double value) implements Expr {
        public Const {
            if (type.isVector()) throw new IllegalArgumentException("constants are scalars");
        }
    }

    /**
     * A knob's value (i32) where the kernel only computes with it, so a target may leave it open until
     * the kernel is loaded: GLSL declares it a specialization constant ({@code knob_NAME}, its value the
     * default), so kernels that differ in it share one SPIR-V module and each pipeline gets its value;
     * C targets print the value. A knob that shapes the code (unrolled loops, array sizes, the
     * workgroup size) stays a literal.
     */
    record Knob(String name, int value) implements Expr {
        public Knob {
            if (!name.matches("[a-z][a-z0-9_]*")) throw new IllegalArgumentException("knob name '" + name + "' must be lower-case letters, digits and _");
        }

        public KType type() {
            return KType.I32;
        }
    }

    /** A local variable, loop index or scalar kernel parameter. */
    record Var(String name, KType type) implements Expr {}

    /** Thread and block coordinates: {@code threadIdx.x}, {@code blockIdx.y} ... (i32). */
    record Builtin(Kind kind, int axis) implements Expr {
        public enum Kind { THREAD, BLOCK, BLOCK_DIM, GRID_DIM }

        public KType type() {
            return KType.I32;
        }
    }

    enum BinOp {
        ADD("+"), SUB("-"), MUL("*"), DIV("/"), MOD("%"), SHL("<<"), SHR(">>"), AND("&"), OR("|"), XOR("^"),
        LT("<"), LE("<="), GT(">"), GE(">="), EQ("=="), NE("!="), LAND("&&"), LOR("||"), MIN("min"), MAX("max");

        public final String symbol;

        BinOp(String symbol) {
            this.symbol = symbol;
        }

        public boolean comparison() {
            return ordinal() >= LT.ordinal() && ordinal() <= NE.ordinal();
        }

        public boolean logical() {
            return this == LAND || this == LOR;
        }

        public boolean bitwise() {
            return this == SHL || this == SHR || this == AND || this == OR || this == XOR;
        }
    }

    record Binary(BinOp op, Expr a, Expr b) implements Expr {
        public Binary {
            if (!a.type().equals(b.type()))
                throw new IllegalArgumentException("operands of " + op + " differ in type: " + a.type() + " and " + b.type());
            if (op.bitwise() && !a.type().isInt()) throw new IllegalArgumentException(op + " needs integers, found " + a.type());
            if (op.logical() && a.type().scalar() != KType.Scalar.BOOL) throw new IllegalArgumentException(op + " needs booleans, found " + a.type());
        }

        public KType type() {
            return op.comparison() || op.logical() ? KType.BOOL : a.type();
        }
    }

    enum UnOp { NEG, NOT, EXP, LOG, SQRT, RSQRT, ABS }

    record Unary(UnOp op, Expr a) implements Expr {
        public Unary {
            if ((op == UnOp.EXP || op == UnOp.LOG || op == UnOp.SQRT || op == UnOp.RSQRT) && a.type().scalar() != KType.Scalar.F32)
                throw new IllegalArgumentException(op + " is defined on f32, found " + a.type());
        }

        public KType type() {
            return a.type();
        }
    }

    /** {@code a · b + c}, rounded once (f32 or f16x2). */
    record Fma(Expr a, Expr b, Expr c) implements Expr {
        public Fma {
            if (!a.type().equals(b.type()) || !a.type().equals(c.type()) || !a.type().isFloat())
                throw new IllegalArgumentException("fma operands must share one float type: " + a.type() + ", " + b.type() + ", " + c.type());
        }

        public KType type() {
            return a.type();
        }
    }

    /**
     * {@code c + a.lo · b.lo + a.hi · b.hi}: two f16 pairs multiplied and summed into an f32
     * ({@code v_dot2_f32_f16}; where the target has it, {@link Capabilities#dot2()}).
     */
    record Dot2(Expr a, Expr b, Expr c) implements Expr {
        public Dot2 {
            if (!a.type().equals(KType.F16X2) || !b.type().equals(KType.F16X2) || !c.type().equals(KType.F32))
                throw new IllegalArgumentException("dot2 takes two f16x2 and an f32: " + a.type() + ", " + b.type() + ", " + c.type());
        }

        public KType type() {
            return KType.F32;
        }
    }

    /**
     * {@code c + Σ_i a.byte[i] · b.byte[i]} over the four bytes of two u32 words, each a signed byte,
     * into an i32 ({@code dp4a.s32.s32}; SPIR-V's {@code OpSDot} on packed bytes; where the target has it,
     * {@link Capabilities#dot4()}).
     */
    record Dot4(Expr a, Expr b, Expr c) implements Expr {
        public Dot4 {
            if (!a.type().equals(KType.U32) || !b.type().equals(KType.U32) || !c.type().equals(KType.I32))
                throw new IllegalArgumentException("dot4 takes two u32 and an i32: " + a.type() + ", " + b.type() + ", " + c.type());
        }

        public KType type() {
            return KType.I32;
        }
    }

    /** Numeric conversion ({@code float(i)}, {@code f16 -> f32}). */
    record Cast(KType type, Expr a) implements Expr {}

    /** Reinterprets the bits ({@code u32 -> f32}, {@code u32 -> f16x2}); sizes must match. */
    record Bitcast(KType type, Expr a) implements Expr {
        public Bitcast {
            if (type.bytes() != a.type().bytes()) throw new IllegalArgumentException("bitcast from " + a.type() + " to " + type + " changes size");
        }
    }

    /** Element {@code index} of a global buffer, in units of {@code type} (a vector type reads lanes at once). */
    record Load(Buffer buffer, Expr index, KType type) implements Expr {
        public Load {
            if (!type.element().equals(buffer.element()) && !(type.scalar() == KType.Scalar.U32 && buffer.element().scalar() != KType.Scalar.BOOL))
                throw new IllegalArgumentException("cannot load " + type + " from " + buffer.element() + " buffer " + buffer.name());
            if (index.type() != KType.I32 && !index.type().equals(KType.I32)) throw new IllegalArgumentException("index must be i32, found " + index.type());
        }
    }

    /**
     * Element {@code index} of a shared-memory array: this block's, or with {@code rank} (null: this block) that of
     * the block of that rank in its cluster (distributed shared memory: {@link Capabilities#clusters()}; only after a
     * {@link Stmt.ClusterBarrier} that follows the other block's write, and before one that the other block waits at
     * before it leaves).
     */
    record SharedLoad(Shared array, Expr index, Expr rank) implements Expr {
        public SharedLoad(Shared array, Expr index) {
            this(array, index, null);
        }

        public KType type() {
            return array.element();
        }
    }

    /** Lane {@code lane} of a vector value. */
    record Lane(Expr vector, int lane) implements Expr {
        public Lane {
            if (lane < 0 || lane >= vector.type().lanes()) throw new IllegalArgumentException("lane " + lane + " of " + vector.type());
        }

        public KType type() {
            return vector.type().element();
        }
    }

    /** A vector from scalar lanes. */
    record Pack(KType type, java.util.List<Expr> lanes) implements Expr {
        public Pack {
            lanes = java.util.List.copyOf(lanes);
            if (lanes.size() != type.lanes()) throw new IllegalArgumentException(type + " needs " + type.lanes() + " lanes, got " + lanes.size());
        }
    }

    /** The low ({@code high == false}) or high 16 bits of a u32 as an f16 value (two packed halves). */
    record HalfOf(Expr word, boolean high) implements Expr {
        public HalfOf {
            if (!word.type().equals(KType.U32)) throw new IllegalArgumentException("halves come out of a u32, not " + word.type());
        }

        public KType type() {
            return KType.F16;
        }
    }

    /** Two f16 values packed into a u32: {@code lo} in bits 0..15, {@code hi} in 16..31 (a half2 register). */
    record HalvesToWord(Expr lo, Expr hi) implements Expr {
        public HalvesToWord {
            if (!lo.type().equals(KType.F16) || !hi.type().equals(KType.F16)) throw new IllegalArgumentException("halves to word takes two f16");
        }

        public KType type() {
            return KType.U32;
        }
    }

    /** {@code cond ? a : b}. */
    record Select(Expr cond, Expr a, Expr b) implements Expr {
        public Select {
            if (!a.type().equals(b.type())) throw new IllegalArgumentException("select arms differ in type: " + a.type() + ", " + b.type());
        }

        public KType type() {
            return a.type();
        }
    }

    /** The value {@code v} of the lane whose index is this lane's XOR {@code mask}, within a warp/subgroup. */
    record ShuffleXor(Expr value, int mask) implements Expr {
        public KType type() {
            return value.type();
        }
    }
}
