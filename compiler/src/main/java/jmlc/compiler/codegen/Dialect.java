package jmlc.compiler.codegen;

/**
 * What distinguishes one C-style GPU language from another, as data: CUDA and HIP differ in a
 * handful of strings (tinygrad's renderer idea). {@link CEmitter} prints any kernel in any dialect.
 *
 * @param name          {@code cuda}, {@code hip}
 * @param fileExtension of a self-contained kernel source
 * @param prelude       includes and helpers every kernel file starts with (f16 conversions)
 * @param kernelPrefix  before the kernel's name: {@code extern "C" __global__ void}
 * @param launchBounds  format of the launch-bounds attribute with the block size ({@code %d})
 * @param barrier       the block-wide barrier statement
 * @param shuffleXor    format of a warp butterfly shuffle of value {@code %1$s} with lane mask {@code %2$d}
 * @param warpSize      threads per warp (32) or wavefront (64 on CDNA; 32 on RDNA in wave32)
 * @param gridWait      waits for the kernels this one depends on (programmatic dependent launch), or ""
 * @param gridTrigger   lets dependent kernels start launching, or ""
 * @param prefetchL2    format of an L2 prefetch of address {@code %s}, or ""
 */
public record Dialect(String name, String fileExtension, String prelude, String kernelPrefix, String launchBounds,
                      String barrier, String shuffleXor, int warpSize, String gridWait, String gridTrigger, String prefetchL2) {

    private static final String F16_VIA_PTX = """
            // f16 values travel as raw 16-bit patterns (half2 as a 32-bit register); conversions and
            // packed arithmetic through PTX need no headers under NVRTC
            __device__ __forceinline__ float jmlc_h2f(unsigned short h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
            __device__ __forceinline__ unsigned short jmlc_f2h(float f) { unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
            __device__ __forceinline__ unsigned int jmlc_hadd2(unsigned int a, unsigned int b) { unsigned int d; asm("add.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b)); return d; }
            __device__ __forceinline__ unsigned int jmlc_hsub2(unsigned int a, unsigned int b) { unsigned int d; asm("sub.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b)); return d; }
            __device__ __forceinline__ unsigned int jmlc_hmul2(unsigned int a, unsigned int b) { unsigned int d; asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b)); return d; }
            __device__ __forceinline__ unsigned int jmlc_hfma2(unsigned int a, unsigned int b, unsigned int c) { unsigned int d; asm("fma.rn.f16x2 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c)); return d; }
            """;

    public static final Dialect CUDA = new Dialect("cuda", "cu", F16_VIA_PTX,
            "extern \"C\" __global__ void", "__launch_bounds__(%d)", "__syncthreads();",
            "__shfl_xor_sync(0xffffffffu, %1$s, %2$d)", 32,
            "asm volatile(\"griddepcontrol.wait;\" ::: \"memory\");", "asm volatile(\"griddepcontrol.launch_dependents;\");",
            "asm volatile(\"prefetch.global.L2 [%%0];\" :: \"l\"(%s));");

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

    /** HIP for AMD GPUs in wave64 (CDNA: gfx90a, gfx940); RDNA targets use {@link #hip(int)} with 32. */
    public static final Dialect HIP = hip(64);

    public static Dialect hip(int warpSize) {
        return new Dialect("hip", "hip", F16_VIA_FLOAT16, "extern \"C\" __global__ void", "__launch_bounds__(%d)",
                "__syncthreads();", "__shfl_xor(%1$s, %2$d, " + warpSize + ")", warpSize, "", "", "");
    }
}
