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
 */
public record Dialect(String name, String fileExtension, String prelude, String kernelPrefix, String launchBounds,
                      String barrier, String shuffleXor, int warpSize) {

    private static final String F16_VIA_PTX = """
            // f16 values travel as raw 16-bit patterns; conversions through PTX need no headers under NVRTC
            __device__ __forceinline__ float jmlc_h2f(unsigned short h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
            __device__ __forceinline__ unsigned short jmlc_f2h(float f) { unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
            """;

    public static final Dialect CUDA = new Dialect("cuda", "cu", F16_VIA_PTX,
            "extern \"C\" __global__ void", "__launch_bounds__(%d)", "__syncthreads();",
            "__shfl_xor_sync(0xffffffffu, %1$s, %2$d)", 32);

    private static final String F16_VIA_FLOAT16 = """
            #include <hip/hip_runtime.h>
            // f16 values travel as raw 16-bit patterns; _Float16 converts them
            __device__ inline float jmlc_h2f(unsigned short h) { _Float16 v; __builtin_memcpy(&v, &h, 2); return (float)v; }
            __device__ inline unsigned short jmlc_f2h(float f) { _Float16 v = (_Float16)f; unsigned short h; __builtin_memcpy(&h, &v, 2); return h; }
            """;

    /** HIP for AMD GPUs in wave64 (CDNA: gfx90a, gfx940); RDNA targets use {@link #hip(int)} with 32. */
    public static final Dialect HIP = hip(64);

    public static Dialect hip(int warpSize) {
        return new Dialect("hip", "hip", F16_VIA_FLOAT16, "extern \"C\" __global__ void", "__launch_bounds__(%d)",
                "__syncthreads();", "__shfl_xor(%1$s, %2$d, " + warpSize + ")", warpSize);
    }
}
