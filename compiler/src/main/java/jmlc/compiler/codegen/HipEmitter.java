package jmlc.compiler.codegen;

/**
 * HIP for AMD GPUs (hiprtc, hipcc, clang): CUDA's syntax with AMD's headers. f16 values are
 * {@code _Float16} vectors, so packed arithmetic becomes {@code v_pk_*_f16}; shuffles name the
 * wavefront width (64 on CDNA, 32 on RDNA in wave32). No tensor-core, fragment-load, grid-dependency
 * or prefetch statements: the rules do not emit them for AMD targets.
 */
public final class HipEmitter extends CEmitter {
    private final int wavefront;

    private static final String F16_VIA_FLOAT16 = """
            #include <hip/hip_runtime.h>
            // f16 values travel as raw 16-bit patterns (half2 as a 32-bit register); _Float16 vectors do the arithmetic
            typedef _Float16 jmlc_half2 __attribute__((ext_vector_type(2)));
            __device__ inline float jmlc_h2f(unsigned short h) { _Float16 v; __builtin_memcpy(&v, &h, 2); return (float)v; }
            __device__ inline unsigned short jmlc_f2h(float f) { _Float16 v = (_Float16)f; unsigned short h; __builtin_memcpy(&h, &v, 2); return h; }
            __device__ inline jmlc_half2 jmlc_u2h2(unsigned int u) { jmlc_half2 h; __builtin_memcpy(&h, &u, 4); return h; }
            __device__ inline unsigned int jmlc_h22u(jmlc_half2 h) { unsigned int u; __builtin_memcpy(&u, &h, 4); return u; }
            __device__ inline unsigned int jmlc_hadd2(unsigned int a, unsigned int b) { return jmlc_h22u(jmlc_u2h2(a) + jmlc_u2h2(b)); }
            __device__ inline unsigned int jmlc_hsub2(unsigned int a, unsigned int b) { return jmlc_h22u(jmlc_u2h2(a) - jmlc_u2h2(b)); }
            __device__ inline unsigned int jmlc_hmul2(unsigned int a, unsigned int b) { return jmlc_h22u(jmlc_u2h2(a) * jmlc_u2h2(b)); }
            __device__ inline unsigned int jmlc_hfma2(unsigned int a, unsigned int b, unsigned int c) { jmlc_half2 x = jmlc_u2h2(a), y = jmlc_u2h2(b), z = jmlc_u2h2(c), r; r.x = __builtin_fmaf16(x.x, y.x, z.x); r.y = __builtin_fmaf16(x.y, y.y, z.y); return jmlc_h22u(r); }
            """;

    /** @param wavefront lanes of a wavefront: 64 (CDNA) or 32 (RDNA in wave32) */
    public HipEmitter(int wavefront) {
        this.wavefront = wavefront;
    }

    @Override
    public String language() {
        return "HIP";
    }

    @Override
    public String fileExtension() {
        return "hip";
    }

    @Override
    protected String prelude() {
        return F16_VIA_FLOAT16;
    }

    @Override
    protected String shuffleXor(String value, int mask) {
        return "__shfl_xor(" + value + ", " + mask + ", " + wavefront + ")";
    }
}
