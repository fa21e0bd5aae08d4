package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The switch between the Vector API kernels and their scalar references, and the vector
 * helpers the kernels share.
 *
 * <p>{@code -Djmlc.cpu.vector=false} (read once, at class initialization) makes every public
 * kernel entry run its {@link Reference} instead, as llama3.java's {@code USE_VECTOR_API} does.
 * The flag is a {@code static final}, so the JIT folds the test away.
 *
 * <p>Kernels use the preferred species ({@code L} = 16 float lanes with AVX-512, 8 with AVX2);
 * the quantized kernels need {@code L} to be a multiple of 4, which every x86 and ARM species is.
 */
final class Simd {
    private Simd() {}

    /** True unless {@code -Djmlc.cpu.vector=false}: run the Vector API kernels. */
    static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty("jmlc.cpu.vector", "true"))
            && FloatVector.SPECIES_PREFERRED.length() >= 4;

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Half as many bits as {@link #F}: {@code L} shorts, widened to {@code L} ints. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    /** A quarter of {@link #F}'s bits: {@code L} bytes, widened to {@code L} ints. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4));
    /** Float lanes per vector. */
    static final int L = F.length();

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** 2^112 as a float: rescales an f16 exponent moved into an f32 (see {@link #halfToFloat}). */
    private static final float HALF_EXP_SCALE = 0x1p112f;

    /**
     * {@code L} fp16 values at byte offset {@code off} of {@code seg}, as floats. Bit trick (no
     * vector f16 conversion in the Vector API): sign-extend to 32 bits, shift the exponent and
     * mantissa into f32 position, clear the three sign copies above the exponent, then multiply by
     * 2^112 to rebias the exponent; subnormals and zeros come out exact. Inf/NaN are not handled
     * (they become finite values near 65536), as weights, scales and cached keys never hold them.
     */
    static FloatVector halfToFloat(MemorySegment seg, long off) {
        IntVector i = (IntVector) ShortVector.fromMemorySegment(S, seg, off, LE).castShape(I, 0);
        return halfBitsToFloat(i);
    }

    /** {@link #halfToFloat} of the lanes {@code mask} selects (the others read as 0 and are never touched in memory). */
    static FloatVector halfToFloat(MemorySegment seg, long off, VectorMask<Short> mask) {
        return halfBitsToFloat((IntVector) ShortVector.fromMemorySegment(S, seg, off, LE, mask).castShape(I, 0));
    }

    /** {@link #bf16ToFloat} of the lanes {@code mask} selects. */
    static FloatVector bf16ToFloat(MemorySegment seg, long off, VectorMask<Short> mask) {
        IntVector i = (IntVector) ShortVector.fromMemorySegment(S, seg, off, LE, mask).castShape(I, 0);
        return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** {@link #halfToFloat} for {@code L} f16 bit patterns already sign-extended to ints. */
    static FloatVector halfBitsToFloat(IntVector signExtended) {
        return signExtended.lanewise(VectorOperators.LSHL, 13).and(0x8FFF_FFFF)
                .reinterpretAsFloats().mul(HALF_EXP_SCALE);
    }

    /** {@code L} bf16 values at byte offset {@code off}, as floats: the bf16 bits are the top half of an f32. */
    static FloatVector bf16ToFloat(MemorySegment seg, long off) {
        IntVector i = (IntVector) ShortVector.fromMemorySegment(S, seg, off, LE).castShape(I, 0);
        return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** {@code Σ a[ao + i] · b[bo + i]} for {@code i < n}, in float with {@code L} partial sums. */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= n; i += L) acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            acc = FloatVector.fromArray(F, a, ao + i, m).fma(FloatVector.fromArray(F, b, bo + i, m), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }
}
