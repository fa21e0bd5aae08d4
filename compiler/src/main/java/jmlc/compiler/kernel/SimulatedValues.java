package jmlc.compiler.kernel;

import jmlc.compiler.quant.Half;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Values as the emitted kernels compute them, for {@link KernelSimulator}: an element of each {@link KType} read from and
 * written to little-endian memory (aligned as a GPU requires), constants, and operations with the emitters' arithmetic
 * (i32/u32 wrap-around, f32 rounding, f16 computed exactly and rounded once as PTX's {@code .rn} ops). Scalars are
 * boxed: i32, u32 and i8 as {@link Integer}, f32 as {@link Float}, f16 as its bits in a {@link Short}, bool as
 * {@link Boolean}; a vector is an {@code Object[]} of its lanes.
 */
final class SimulatedValues {
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort S = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private SimulatedValues() {}

    /** GPUs fault on accesses not aligned to their size (a 16-byte load needs a 16-byte aligned address). */
    static void checkAligned(MemorySegment m, long off, KType t, String what) {
        if ((m.address() + off) % t.bytes() != 0)
            throw new IllegalStateException("misaligned " + what + " of " + t + " at byte offset " + off + " (address " + (m.address() + off) + ")");
    }

    static Object read(MemorySegment m, long i, KType t) {
        long off = i * t.bytes();
        checkAligned(m, off, t, "read");
        if (off < 0 || off + t.bytes() > m.byteSize()) throw new IndexOutOfBoundsException("read of " + t + " at element " + i + " outside " + m.byteSize() + " bytes");
        if (t.isVector()) {
            Object[] v = new Object[t.lanes()];
            for (int l = 0; l < t.lanes(); l++) v[l] = read(m, (off + (long) l * t.scalar().bytes) / t.scalar().bytes, t.element());
            return v;
        }
        return switch (t.scalar()) {
            case I32, U32 -> m.get(I, off);
            case F32 -> m.get(F, off);
            case F16 -> m.get(S, off);
            case I8 -> (int) m.get(ValueLayout.JAVA_BYTE, off);
            case BOOL -> m.get(ValueLayout.JAVA_BYTE, off) != 0;
        };
    }

    static void write(MemorySegment m, long i, KType t, Object v) {
        long off = i * t.bytes();
        checkAligned(m, off, t, "write");
        if (off < 0 || off + t.bytes() > m.byteSize()) throw new IndexOutOfBoundsException("write of " + t + " at element " + i + " outside " + m.byteSize() + " bytes");
        if (t.isVector()) {
            for (int l = 0; l < t.lanes(); l++) write(m, (off + (long) l * t.scalar().bytes) / t.scalar().bytes, t.element(), ((Object[]) v)[l]);
            return;
        }
        switch (t.scalar()) {
            case I32, U32 -> m.set(I, off, (Integer) v);
            case F32 -> m.set(F, off, (Float) v);
            case F16 -> m.set(S, off, (Short) v);
            case I8 -> m.set(ValueLayout.JAVA_BYTE, off, (byte) (int) (Integer) v);
            case BOOL -> m.set(ValueLayout.JAVA_BYTE, off, (byte) ((Boolean) v ? 1 : 0));
        }
    }

    static Object constant(KType t, double v) {
        return switch (t.scalar()) {
            case I32, U32 -> (int) (long) v;
            case I8 -> (int) (byte) (long) v;
            case F32 -> (float) v;
            case F16 -> Half.fromFloat((float) v);
            case BOOL -> v != 0;
        };
    }

    static Object binary(Expr.BinOp op, KType t, Object a, Object b) {
        if (t.isVector()) { // lane by lane
            Object[] x = (Object[]) a, y = (Object[]) b, r = new Object[x.length];
            for (int i = 0; i < x.length; i++) r[i] = binary(op, t.element(), x[i], y[i]);
            return r;
        }
        if (t.scalar() == KType.Scalar.F16) { // computed exactly, rounded once to f16, as PTX's .rn f16 ops do
            float x = Half.toFloat((Short) a), y = Half.toFloat((Short) b);
            double v = switch (op) {
                case ADD -> (double) x + y;
                case SUB -> (double) x - y;
                case MUL -> (double) x * y;
                default -> throw new IllegalArgumentException(op + " on f16");
            };
            return Half.fromFloat((float) v);
        }
        if (t.scalar() == KType.Scalar.BOOL) {
            boolean x = (Boolean) a, y = (Boolean) b;
            return switch (op) {
                case LAND -> x && y;
                case LOR -> x || y;
                case EQ -> x == y;
                case NE -> x != y;
                default -> throw new IllegalArgumentException(op + " on bool");
            };
        }
        if (t.scalar() == KType.Scalar.F32) {
            float x = (Float) a, y = (Float) b;
            return switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> x / y;
                case MIN -> Math.min(x, y);
                case MAX -> Math.max(x, y);
                case LT -> x < y;
                case LE -> x <= y;
                case GT -> x > y;
                case GE -> x >= y;
                case EQ -> x == y;
                case NE -> x != y;
                default -> throw new IllegalArgumentException(op + " on f32");
            };
        }
        boolean unsigned = t.scalar() == KType.Scalar.U32;
        int x = (Integer) a, y = (Integer) b;
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> unsigned ? Integer.divideUnsigned(x, y) : x / y;
            case MOD -> unsigned ? Integer.remainderUnsigned(x, y) : x % y;
            case SHL -> x << y;
            case SHR -> unsigned ? x >>> y : x >> y;
            case AND -> x & y;
            case OR -> x | y;
            case XOR -> x ^ y;
            case MIN -> unsigned ? (Integer.compareUnsigned(x, y) <= 0 ? x : y) : Math.min(x, y);
            case MAX -> unsigned ? (Integer.compareUnsigned(x, y) >= 0 ? x : y) : Math.max(x, y);
            case LT -> unsigned ? Integer.compareUnsigned(x, y) < 0 : x < y;
            case LE -> unsigned ? Integer.compareUnsigned(x, y) <= 0 : x <= y;
            case GT -> unsigned ? Integer.compareUnsigned(x, y) > 0 : x > y;
            case GE -> unsigned ? Integer.compareUnsigned(x, y) >= 0 : x >= y;
            case EQ -> x == y;
            case NE -> x != y;
            default -> throw new IllegalArgumentException(op + " on " + t);
        };
    }

    static Object unary(Expr.UnOp op, KType t, Object a) {
        if (t.scalar() == KType.Scalar.F32) {
            float x = (Float) a;
            return switch (op) {
                case NEG -> -x;
                case EXP -> (float) Math.exp(x);
                case LOG -> (float) Math.log(x);
                case SQRT -> (float) Math.sqrt(x);
                case RSQRT -> (float) (1 / Math.sqrt(x));
                case ABS -> Math.abs(x);
                case NOT -> throw new IllegalArgumentException("not on f32");
            };
        }
        if (t.scalar() == KType.Scalar.BOOL) return !(Boolean) a;
        int x = (Integer) a;
        return switch (op) {
            case NEG -> -x;
            case NOT -> ~x;
            case ABS -> Math.abs(x);
            default -> throw new IllegalArgumentException(op + " on " + t);
        };
    }

    static Object cast(KType from, KType to, Object v) {
        if (from.equals(to)) return v;
        if (from.isInt() && to.isInt()) return to.scalar() == KType.Scalar.I8 ? (int) (byte) (int) (Integer) v : v; // i8 keeps the low byte
        float asFloat = switch (from.scalar()) {
            case F32 -> (Float) v;
            case F16 -> Half.toFloat((Short) v);
            case I32, I8 -> (float) (Integer) v;
            case U32 -> (float) Integer.toUnsignedLong((Integer) v);
            case BOOL -> (Boolean) v ? 1 : 0;
        };
        return switch (to.scalar()) {
            case F32 -> asFloat;
            case F16 -> Half.fromFloat(asFloat);
            case I32 -> (int) asFloat;
            case I8 -> (int) (byte) (int) asFloat;
            case U32 -> (int) (long) asFloat;
            case BOOL -> asFloat != 0;
        };
    }

    /** Lane-wise f16 fma, exact then rounded once. */
    static Object[] hfma2(Object[] a, Object[] b, Object[] c) {
        Object[] r = new Object[2];
        for (int i = 0; i < 2; i++)
            r[i] = Half.fromFloat((float) ((double) Half.toFloat((Short) a[i]) * Half.toFloat((Short) b[i]) + Half.toFloat((Short) c[i])));
        return r;
    }

    /** Two f16 products summed into an f32, exact then rounded once. */
    static float dot2(Object[] a, Object[] b, float c) {
        double sum = c;
        for (int i = 0; i < 2; i++) sum += (double) Half.toFloat((Short) a[i]) * Half.toFloat((Short) b[i]);
        return (float) sum;
    }

    static Object bitcast(KType from, KType to, Object v) {
        if (from.equals(KType.U32) && to.equals(KType.F16X2)) {
            int w = (Integer) v;
            return new Object[] {(short) w, (short) (w >>> 16)};
        }
        if (from.equals(KType.F16X2) && to.equals(KType.U32)) {
            Object[] h = (Object[]) v;
            return ((Short) h[0] & 0xffff) | (((Short) h[1] & 0xffff) << 16);
        }
        if (from.isInt() && to.scalar() == KType.Scalar.F32) return Float.intBitsToFloat((Integer) v);
        if (from.scalar() == KType.Scalar.F32 && to.isInt()) return Float.floatToRawIntBits((Float) v);
        if (from.isInt() && to.isInt()) return v;
        throw new IllegalArgumentException("no bitcast from " + from + " to " + to);
    }
}
