package jmlc.compiler.codegen;

import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.kernel.Expr;

import java.util.List;
import java.util.Map;

/**
 * HIP for AMD GPUs (hiprtc, hipcc, clang): CUDA's syntax with AMD's headers. Thread and block
 * indices, block and grid sizes, the barrier and the f32 math functions go through amdgcn
 * builtins and the HSA dispatch packet instead of the headers' {@code threadIdx}, {@code gridDim},
 * {@code __syncthreads} and {@code logf}, which call AMD's device library (ockl, ocml): so a kernel
 * compiles to a complete code object with clang alone ({@code -nogpulib}), and with hiprtc as it
 * is. f16 values are {@code _Float16} vectors, so packed arithmetic becomes {@code v_pk_*_f16};
 * {@link jmlc.compiler.kernel.Expr.Dot2} is {@code v_dot2_f32_f16}; the matrix steps are WMMA
 * (RDNA3) and MFMA (CDNA) builtins; shuffles name the wavefront width (64 on CDNA, 32 on RDNA in
 * wave32). No PTX-only statements (mma.sync, ldmatrix, grid dependencies, prefetch): the rules
 * do not emit them for AMD targets.
 */
public final class HipEmitter extends CEmitter {
    private final int wavefront;

    private static final String PRELUDE = """
            #include <hip/hip_runtime.h>
            // indices, sizes (from the HSA dispatch packet), the barrier and f32 math by amdgcn builtins: no device library
            __device__ inline int jmlc_block_dim(int axis) { return ((const unsigned short*)((const char*)__builtin_amdgcn_dispatch_ptr() + 4))[axis]; }
            __device__ inline int jmlc_grid_dim(int axis) { unsigned int items = ((const unsigned int*)((const char*)__builtin_amdgcn_dispatch_ptr() + 12))[axis], b = (unsigned int)jmlc_block_dim(axis); return (int)((items + b - 1) / b); }
            __device__ inline void jmlc_barrier() { __builtin_amdgcn_fence(__ATOMIC_RELEASE, "workgroup"); __builtin_amdgcn_s_barrier(); __builtin_amdgcn_fence(__ATOMIC_ACQUIRE, "workgroup"); }
            __device__ inline float jmlc_expf(float x) { return __builtin_exp2f(x * 1.44269504f); }
            // f16 values travel as raw 16-bit patterns (half2 as a 32-bit register); _Float16 vectors do the arithmetic
            typedef _Float16 jmlc_half2 __attribute__((ext_vector_type(2)));
            __device__ inline float jmlc_h2f(unsigned short h) { _Float16 v; __builtin_memcpy(&v, &h, 2); return (float)v; }
            __device__ inline unsigned short jmlc_f2h(float f) { _Float16 v = (_Float16)f; unsigned short h; __builtin_memcpy(&h, &v, 2); return h; }
            __device__ inline jmlc_half2 jmlc_u2h2(unsigned int u) { jmlc_half2 h; __builtin_memcpy(&h, &u, 4); return h; }
            __device__ inline unsigned int jmlc_h22u(jmlc_half2 h) { unsigned int u; __builtin_memcpy(&u, &h, 4); return u; }
            __device__ inline unsigned int jmlc_hadd2(unsigned int a, unsigned int b) { return jmlc_h22u(jmlc_u2h2(a) + jmlc_u2h2(b)); }
            __device__ inline unsigned int jmlc_hsub2(unsigned int a, unsigned int b) { return jmlc_h22u(jmlc_u2h2(a) - jmlc_u2h2(b)); }
            __device__ inline unsigned int jmlc_hmul2(unsigned int a, unsigned int b) { return jmlc_h22u(jmlc_u2h2(a) * jmlc_u2h2(b)); }
            __device__ inline unsigned int jmlc_hfma2(unsigned int a, unsigned int b, unsigned int c) {
            #pragma clang fp contract(fast)
              return jmlc_h22u(jmlc_u2h2(a) * jmlc_u2h2(b) + jmlc_u2h2(c)); // contracted: one v_pk_fma_f16, rounded once
            }
            // operands of the matrix units: A and B as 16 (WMMA) or 4 (MFMA) halves, 8 or 4 f32 accumulators
            typedef _Float16 jmlc_v16h __attribute__((ext_vector_type(16)));
            typedef _Float16 jmlc_v4h __attribute__((ext_vector_type(4)));
            typedef float jmlc_v8f __attribute__((ext_vector_type(8)));
            typedef float jmlc_v4f __attribute__((ext_vector_type(4)));
            typedef unsigned int jmlc_v8u __attribute__((ext_vector_type(8)));
            typedef unsigned int jmlc_v2u __attribute__((ext_vector_type(2)));
            """;

    /** The C math functions as clang builtins (the headers' versions call ocml); exp the fast way, as CUDA's __expf. */
    private static final Map<String, String> MATH = Map.of("fmaxf", "__builtin_fmaxf", "fminf", "__builtin_fminf", "fmaf", "__builtin_fmaf",
            "fabsf", "__builtin_fabsf", "__expf", "jmlc_expf", "logf", "__builtin_logf", "sqrtf", "__builtin_sqrtf", "rsqrtf", "__builtin_amdgcn_rsqf");

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
        return PRELUDE;
    }

    @Override
    protected String builtin(Expr.Builtin.Kind kind, int axis) {
        char a = "xyz".charAt(axis);
        return switch (kind) {
            case THREAD -> "(int)__builtin_amdgcn_workitem_id_" + a + "()";
            case BLOCK -> "(int)__builtin_amdgcn_workgroup_id_" + a + "()";
            case BLOCK_DIM -> "jmlc_block_dim(" + axis + ")";
            case GRID_DIM -> "jmlc_grid_dim(" + axis + ")";
        };
    }

    @Override
    protected String barrier() {
        return "jmlc_barrier();";
    }

    /** A wavefront runs its lanes together: the barrier only orders their shared-memory accesses (fences at wavefront scope). */
    @Override
    protected String subgroupBarrier() {
        return "__builtin_amdgcn_fence(__ATOMIC_RELEASE, \"wavefront\"); __builtin_amdgcn_wave_barrier(); __builtin_amdgcn_fence(__ATOMIC_ACQUIRE, \"wavefront\");";
    }

    @Override
    protected String mathFunction(String name) {
        String b = MATH.get(name);
        if (b == null) throw new IllegalArgumentException("no HIP builtin for " + name);
        return b;
    }

    @Override
    protected String shuffleXor(String value, int mask) {
        return "__shfl_xor(" + value + ", " + mask + ", " + wavefront + ")";
    }

    @Override
    protected String dot2(String a, String b, String c) {
        return "__builtin_amdgcn_fdot2(jmlc_u2h2(" + a + "), jmlc_u2h2(" + b + "), " + c + ", false)";
    }

    /**
     * {@code v_wmma_f32_16x16x16_f16} or {@code v_mfma_f32_16x16x16_f16} on the accumulators packed
     * into a vector and unpacked again (the compiler keeps them in the same registers).
     */
    @Override
    protected String matrix16(Capabilities.MatrixUnit unit, List<String> acc, List<String> a, List<String> b) {
        boolean wmma = unit == Capabilities.MatrixUnit.WMMA_16X16X16;
        if (!wmma && unit != Capabilities.MatrixUnit.MFMA_16X16X16) throw new UnsupportedOperationException("HIP has no " + unit);
        String v = wmma ? "jmlc_v8f" : "jmlc_v4f", h = wmma ? "jmlc_v16h" : "jmlc_v4h", u = wmma ? "jmlc_v8u" : "jmlc_v2u";
        String call = wmma ? "__builtin_amdgcn_wmma_f32_16x16x16_f16_w32(" + operand(h, u, a) + ", " + operand(h, u, b) + ", jmlc_d)"
                : "__builtin_amdgcn_mfma_f32_16x16x16f16(" + operand(h, u, a) + ", " + operand(h, u, b) + ", jmlc_d, 0, 0, 0)";
        StringBuilder sb = new StringBuilder("{ " + v + " jmlc_d = {" + String.join(", ", acc) + "}; jmlc_d = " + call + ";");
        for (int i = 0; i < acc.size(); i++) sb.append(' ').append(acc.get(i)).append(" = jmlc_d[").append(i).append("];");
        return sb.append(" }").toString();
    }

    private static String operand(String halves, String words, List<String> regs) {
        return "__builtin_bit_cast(" + halves + ", (" + words + "){" + String.join(", ", regs) + "})";
    }
}
