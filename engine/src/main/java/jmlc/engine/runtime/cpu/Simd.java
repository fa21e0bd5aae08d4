package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.ByteVector;
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

    /*
     * A rule for every kernel in this package: no method of ours takes or returns a vector. The
     * Vector API's own methods are @ForceInline and always inline, but a call to one of ours is
     * inlined only while C2's node budget for the compiled method lasts; in a large kernel it runs
     * out, the call stays a call, and every vector crossing it is boxed on the heap. Measured on
     * JDK 25: GEMVs 30 times slower, attention 3 times. So helpers pass arrays and offsets, and
     * the hot loops write their Vector API expressions out.
     */

    /**
     * {@code n} fp16 values at byte offset {@code off} of {@code seg} as floats into
     * {@code dst[dstOff ..]}. Bit trick (the Vector API has no f16 conversion): sign-extend to 32
     * bits, shift exponent and mantissa into f32 position ({@code << 13}), clear the three sign
     * copies above the exponent ({@code & 0x8FFFFFFF}), multiply by 2^112 to rebias the exponent;
     * subnormals and zeros come out exact. Inf/NaN are not handled (they become finite values near
     * 65536): weights, scales and cached keys never hold them.
     */
    static void halfToFloat(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        int i = 0;
        for (; i + L <= n; i += L)
            ((IntVector) ShortVector.fromMemorySegment(S, seg, off + 2L * i, LE).castShape(I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f)
                    .intoArray(dst, dstOff + i);
        if (i < n) {
            VectorMask<Short> m = S.indexInRange(i, n);
            ((IntVector) ShortVector.fromMemorySegment(S, seg, off + 2L * i, LE, m).castShape(I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f)
                    .intoArray(dst, dstOff + i, m.cast(F));
        }
    }

    /** {@code n} signed bytes at byte offset {@code off} times {@code scale} into {@code dst[dstOff ..]}: an int8 KV cache's group. */
    static void int8ToFloat(MemorySegment seg, long off, float scale, float[] dst, int dstOff, int n) {
        int i = 0;
        for (; i + L <= n; i += L)
            ((FloatVector) ByteVector.fromMemorySegment(B, seg, off + i, LE).castShape(F, 0)).mul(scale).intoArray(dst, dstOff + i);
        for (; i < n; i++) dst[dstOff + i] = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, off + i) * scale;
    }

    /** {@code n} bf16 values at byte offset {@code off} as floats into {@code dst[dstOff ..]}: the bits are the top half of an f32. */
    static void bf16ToFloat(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        int i = 0;
        for (; i + L <= n; i += L)
            ((IntVector) ShortVector.fromMemorySegment(S, seg, off + 2L * i, LE).castShape(I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstOff + i);
        if (i < n) {
            VectorMask<Short> m = S.indexInRange(i, n);
            ((IntVector) ShortVector.fromMemorySegment(S, seg, off + 2L * i, LE, m).castShape(I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstOff + i, m.cast(F));
        }
    }

    /** {@code n} f32 values at byte offset {@code off} into {@code dst[dstOff ..]}. */
    static void f32ToFloat(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        MemorySegment.copy(seg, jmlc.compiler.quant.GroupQuantizer.F32, off, dst, dstOff, n);
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
