package jmlc.compiler.kernel;

/**
 * What a GPU offers the kernel IR: the sizes rules fit their launches to, and which of the
 * statements and types that only some GPUs have a kernel may use. Rules ask for a capability and
 * fall back where it is absent; {@link KernelCheck} rejects a kernel that uses one its target lacks,
 * so no code generator ever meets a statement it cannot print.
 *
 * @param subgroupSize       lanes a shuffle reaches: a CUDA warp (32), an AMD wavefront (64 on CDNA,
 *                           32 on RDNA in wave32), a Vulkan subgroup (pinned by the runtime)
 * @param maxThreadsPerBlock threads one block may have
 * @param maxSharedBytes     shared memory (LDS, workgroup memory) one block may use without opting in
 * @param multiprocessors    SMs / CUs: grids are sized so each has work
 * @param f16Arithmetic      packed f16x2 arithmetic ({@code fma.rn.f16x2}, {@code v_pk_fma_f16}, float16 in shaders)
 * @param matrix             the warp-wide matrix instruction rules may emit
 * @param ldmatrix           {@code ldmatrix.x4} fragment loads from shared memory (PTX, sm_75+)
 * @param gridDependency     programmatic dependent launch ({@code griddepcontrol}, sm_90+)
 * @param prefetchL2         {@code prefetch.global.L2}
 */
public record Capabilities(int subgroupSize, int maxThreadsPerBlock, int maxSharedBytes, int multiprocessors,
                           boolean f16Arithmetic, MatrixUnit matrix, boolean ldmatrix, boolean gridDependency, boolean prefetchL2) {

    /** Warp-level matrix instructions a rule can build a GEMM from. */
    public enum MatrixUnit {
        /** none: GEMMs run on the vector units */
        NONE,
        /** PTX {@code mma.sync.m16n8k16} f16 operands, f32 accumulators (sm_80+), 32-lane warps */
        MMA_M16N8K16
    }

    public Capabilities {
        if (subgroupSize < 1 || (subgroupSize & (subgroupSize - 1)) != 0 || subgroupSize > 128)
            throw new IllegalArgumentException("subgroup size must be a power of two up to 128, found " + subgroupSize);
        if (maxThreadsPerBlock < subgroupSize) throw new IllegalArgumentException("a block must hold a subgroup: " + maxThreadsPerBlock + " < " + subgroupSize);
        if (maxSharedBytes < 0 || multiprocessors < 1) throw new IllegalArgumentException("shared bytes " + maxSharedBytes + ", multiprocessors " + multiprocessors);
        if (matrix == MatrixUnit.MMA_M16N8K16 && subgroupSize != 32) throw new IllegalArgumentException("mma.sync needs 32-lane warps");
    }

    /** The same GPU with another number of multiprocessors (what a runtime reads from its device). */
    public Capabilities withMultiprocessors(int n) {
        return new Capabilities(subgroupSize, maxThreadsPerBlock, maxSharedBytes, n, f16Arithmetic, matrix, ldmatrix, gridDependency, prefetchL2);
    }

    /** The same GPU with another subgroup size (a Vulkan device pinned to one of its sizes). */
    public Capabilities withSubgroupSize(int n) {
        return new Capabilities(n, maxThreadsPerBlock, maxSharedBytes, multiprocessors, f16Arithmetic, matrix, ldmatrix, gridDependency, prefetchL2);
    }
}
