package jmlc.engine.runtime.gpu;

import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;

import java.util.List;
import java.util.Map;

import static jmlc.compiler.kernel.K.*;

/**
 * Kernels that make synthetic weights on the device (no host copy of a 7B model): random words
 * from a hash of the index (lowbias32), or one repeated word. Dequantized values then have about
 * the spread {@code SyntheticWeights} gives on the host; speed does not depend on the values.
 */
public final class SyntheticFill {
    private SyntheticFill() {}

    static final int THREADS = 256, BLOCKS = 4096;

    /** Kind of words to write. */
    public enum Kind {
        /** uniformly random bits: packed 4/8-bit weights */
        RANDOM_BITS,
        /** two f16 uniform in [-a, a] per word */
        RANDOM_F16,
        /** one f32 uniform in [-a, a] per word */
        RANDOM_F32,
        /** the same word everywhere (scales, norm weights) */
        CONSTANT
    }

    /**
     * {@code out[i]} for {@code i < n} (scalar {@code n}), grid-stride; scalar {@code salt} varies the
     * stream per tensor; {@code amplitude} is baked in for the random float kinds, {@code word} for constants.
     */
    static Kernel kernel(Kind kind, float amplitude, int word, Capabilities caps) {
        Buffer out = new Buffer("out", KType.U32, false);
        Expr.Var n = var("n", KType.I32), salt = var("salt", KType.I32);
        K.Body b = new K.Body();
        Expr.Var i = var("i", KType.I32);
        b.forRange(i, add(mul(bid(0), c(THREADS)), tid(0)), n, c(THREADS * BLOCKS), 0, x -> {
            Expr value = switch (kind) {
                case CONSTANT -> u(word & 0xffffffffL);
                case RANDOM_BITS -> hash(x, i, salt);
                case RANDOM_F16 -> {
                    Expr.Var h = x.let("h", hash(x, i, salt));
                    yield halves(uniform(and(h, u(0xffff)), amplitude), uniform(shr(h, u(16)), amplitude));
                }
                case RANDOM_F32 -> bitcast(KType.U32, uniform(shr(hash(x, i, salt), u(16)), amplitude));
            };
            x.store(out, i, value);
        });
        String name = "fill_" + kind.name().toLowerCase() + (kind == Kind.CONSTANT ? "_" + Integer.toHexString(word) : kind == Kind.RANDOM_BITS ? "" : "_" + Float.floatToIntBits(amplitude));
        return Kernel.checked(name, List.of(out), List.of(n, salt), List.of(), b.build(), new int[] {THREADS, 1, 1},
                new Expr[] {c(BLOCKS), c(1), c(1)}, Map.of(), "synthetic weights: " + kind, caps);
    }

    /** Fills {@code bytes} at {@code address} on {@code dev}; fill kernels are compiled once into {@code cache}. */
    public static void fill(GpuDevice dev, java.util.Map<String, GpuDevice.LoadedKernel> cache, long address, long bytes, Kind kind, float amplitude, int word, int salt) {
        Kernel k = kernel(kind, amplitude, word, dev.target().caps());
        GpuDevice.LoadedKernel lk = cache.computeIfAbsent(k.name(), n -> dev.load(k, dev.target().codegen().emit(k)));
        dev.launch(lk, jmlc.compiler.kernel.GridEval.grid(k, java.util.Map.of()), new long[] {address}, new int[] {(int) ((bytes + 3) / 4), salt});
    }

    /** lowbias32 of {@code i ^ salt·0x9E3779B9}: a well-mixed u32 per index. */
    private static Expr hash(K.Body b, Expr i, Expr salt) {
        Expr.Var x = b.let(b.fresh("x"), K.xor(cast(KType.U32, i), mul(cast(KType.U32, salt), u(0x9E3779B9L))));
        b.assign(x, K.xor(x, shr(x, u(16))));
        b.assign(x, mul(x, u(0x7feb352dL)));
        b.assign(x, K.xor(x, shr(x, u(15))));
        b.assign(x, mul(x, u(0x846ca68bL)));
        b.assign(x, K.xor(x, shr(x, u(16))));
        return x;
    }

    /** A 16-bit integer {@code v} mapped to a float in [-a, a). */
    private static Expr uniform(Expr v16, float a) {
        return sub(mul(cast(KType.F32, v16), f(2.0 * a / 65536.0)), f(a));
    }
}
