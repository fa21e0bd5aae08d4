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
 * @param dot2               a dot product of two f16 pairs accumulated in f32 ({@code v_dot2_f32_f16}: AMD
 *                           gfx906, gfx908, gfx90a, gfx94x, gfx1011/1012, gfx103x, gfx11, gfx12)
 * @param bulk               one instruction moves a whole range (sm_90+, the copy engine Hopper calls TMA): a prefetch into
 *                           L2 ({@code cp.async.bulk.prefetch.L2}), and a copy into shared memory that completes on a copy
 *                           barrier ({@link Stmt.BulkCopy}, {@link Stmt.CopyBarrier}: {@code cp.async.bulk}, {@code mbarrier})
 * @param dot4               a dot product of two packed quadruples of signed bytes added to an i32 ({@code dp4a.s32.s32},
 *                           sm_61+; Vulkan's {@code shaderIntegerDotProduct}, SPIR-V's {@code OpSDot})
 * @param storage8           single bytes loaded from and stored to buffers ({@code i8} buffers): native in CUDA, HIP
 *                           and C; Vulkan's {@code storageBuffer8BitAccess}. Without it the GLSL emitter reaches a
 *                           byte through its 32-bit word (a bit-field extract to load, two atomics to store)
 * @param gridBarrier        a barrier across all blocks of a launch ({@link Stmt.GridBarrier}) the runtime can
 *                           make safe by launching only as many blocks as stay resident together and having the
 *                           driver guarantee it: CUDA's cooperative launch (sm_60+). Not Vulkan, which promises no
 *                           such residency; not HIP yet (its runtime does not launch cooperatively)
 * @param asyncCopy          copies from global to shared memory a thread starts and later waits for, in groups
 *                           ({@link Stmt.AsyncCopy}: PTX {@code cp.async}, sm_80+), so bytes are in flight without registers
 * @param optInSharedBytes   shared memory one block may use when the runtime opts in for it (CUDA: dynamic shared
 *                           memory above 48 KiB, {@code CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES}); at least
 *                           {@code maxSharedBytes}. Rules size against {@code maxSharedBytes} unless they ask for this
 * @param clusters           thread block clusters of up to 8 blocks scheduled together, with a barrier across the
 *                           cluster ({@link Stmt.ClusterBarrier}) and loads from the other blocks' shared memory
 *                           ({@link Expr.SharedLoad} with a rank): CUDA sm_90+ ({@code barrier.cluster},
 *                           {@code mapa} and {@code ld.shared::cluster}); not HIP, not Vulkan
 */
public record Capabilities(int subgroupSize, int maxThreadsPerBlock, int maxSharedBytes, int multiprocessors,
                           boolean f16Arithmetic, MatrixUnit matrix, boolean ldmatrix, boolean gridDependency, boolean prefetchL2,
                           boolean dot2, boolean bulk, boolean dot4, boolean storage8, boolean gridBarrier, boolean asyncCopy,
                           int optInSharedBytes, boolean clusters) {

    /**
     * Subgroup-wide matrix instructions a rule can build a GEMM from: {@code D += A · B} with f16
     * operands and f32 accumulators, each lane holding parts of A, B and D in registers in the
     * layout the instruction defines ({@link Stmt.Mma}).
     */
    public enum MatrixUnit {
        /** none: GEMMs run on the vector units */
        NONE(0, 0, 0, 0, 0, 0, 0, 0),
        /**
         * PTX {@code mma.sync.m16n8k16} (sm_80+), 32-lane warps: A 16×16 in 4 u32 registers a lane,
         * B 16×8 in 2, D 16×8 in 4 f32 (PTX ISA, "Matrix fragments for mma.m16n8k16").
         */
        MMA_M16N8K16(32, 8, 4, 2, 4, 0, 0, 0),
        /**
         * AMD RDNA3 WMMA {@code v_wmma_f32_16x16x16_f16} (gfx11), 32-lane waves: A, B and D 16×16.
         * Lane l holds row {@code l % 16} of A and column {@code l % 16} of B with all 16 k (8 u32
         * registers of two halves each; lanes 16..31 repeat lanes 0..15), and D's column
         * {@code l % 16} at rows {@code 2r + l / 16} in f32 register r (8 registers). (AMD RDNA3
         * ISA, "Wave Matrix Multiply Accumulate"; GPUOpen, "How to accelerate AI applications on
         * RDNA 3 using WMMA".)
         */
        WMMA_16X16X16(32, 16, 8, 8, 8, 0, 2, 1),
        /**
         * AMD CDNA MFMA {@code v_mfma_f32_16x16x16_f16} (gfx908, gfx90a, gfx94x), 64-lane waves: A,
         * B and D 16×16. Lane l holds row {@code l % 16} of A and column {@code l % 16} of B at k
         * {@code 4 (l / 16) .. + 3} (2 u32 registers), and D's column {@code l % 16} at rows
         * {@code 4 (l / 16) + r} in f32 register r (4 registers). (AMD CDNA2 ISA, "Matrix
         * Arithmetic Instructions"; AMD's matrix instruction calculator.)
         */
        MFMA_16X16X16(64, 16, 2, 2, 4, 4, 1, 4),
        /**
         * Vulkan's cooperative matrices at subgroup scope ({@code VK_KHR_cooperative_matrix}, GLSL
         * {@code coopmat}): A and B 16×16 f16, D 16×16 f32, held by the whole subgroup in a layout
         * the driver chooses, at any subgroup size. No lane registers: kernels use them through
         * {@link MatrixTile} and its statements (loaded from and stored to shared memory), not {@link Stmt.Mma}.
         */
        COOPERATIVE_16X16X16(0, 16, 0, 0, 0, 0, 0, 0);

        /** Lanes that execute one instruction together (0: the subgroup, whatever its size). */
        public final int lanes;
        /** Columns of D (and of B) one instruction computes: 8 for m16n8k16, else 16. Rows and K are 16. */
        public final int n;
        /** u32 registers (two f16 each) of A, of B, and f32 registers of D, a lane holds. */
        public final int aRegs, bRegs, accRegs;
        /**
         * For the 16×16×16 units: lane l's k group {@code g = l / 16} holds A's and B's k starting at
         * {@code kPerGroup · g + 2 w} in register w, and D's row {@code rowStride · r + rowsPerGroup · g}
         * in accumulator r.
         */
        public final int kPerGroup, rowStride, rowsPerGroup;

        MatrixUnit(int lanes, int n, int aRegs, int bRegs, int accRegs, int kPerGroup, int rowStride, int rowsPerGroup) {
            this.lanes = lanes;
            this.n = n;
            this.aRegs = aRegs;
            this.bRegs = bRegs;
            this.accRegs = accRegs;
            this.kPerGroup = kPerGroup;
            this.rowStride = rowStride;
            this.rowsPerGroup = rowsPerGroup;
        }

        /** Tiles without a lane layout ({@link MatrixTile}): the cooperative matrices. */
        public boolean opaque() {
            return this == COOPERATIVE_16X16X16;
        }

        /** A 16×16×16 unit of AMD's (WMMA or MFMA), whose layouts {@link #k}, {@link #row} and {@link #col} give. */
        public boolean amd16() {
            return this == WMMA_16X16X16 || this == MFMA_16X16X16;
        }

        /** The first of the two k a lane of k group {@code g} holds in A (or B) register {@code w}. */
        public int k(int g, int w) {
            return kPerGroup * g + 2 * w;
        }

        /** D's row in accumulator {@code r} of a lane of k group {@code g}. */
        public int row(int g, int r) {
            return rowStride * r + rowsPerGroup * g;
        }

        /** The row of A (and column of B and of D) lane {@code l} holds. */
        public static int col(int lane) {
            return lane % 16;
        }
    }

    /**
     * A GPU with the sizes, arithmetic and matrix unit given and none of the features that only some have: no dot2, bulk
     * copies, dot4, grid barriers, asynchronous copies, shared memory beyond {@code maxSharedBytes} or clusters; byte
     * buffers (storage8) yes. The {@code with} methods add what a target has: {@code new Capabilities(...).withDot2(true)}.
     */
    public Capabilities(int subgroupSize, int maxThreadsPerBlock, int maxSharedBytes, int multiprocessors,
                        boolean f16Arithmetic, MatrixUnit matrix, boolean ldmatrix, boolean gridDependency, boolean prefetchL2) {
        this(subgroupSize, maxThreadsPerBlock, maxSharedBytes, multiprocessors, f16Arithmetic, matrix, ldmatrix, gridDependency, prefetchL2,
                false, false, false, true, false, false, maxSharedBytes, false);
    }

    public Capabilities {
        if (optInSharedBytes < maxSharedBytes) throw new IllegalArgumentException("opt-in shared bytes " + optInSharedBytes + " below the " + maxSharedBytes + " any block has");
        if (subgroupSize < 1 || (subgroupSize & (subgroupSize - 1)) != 0 || subgroupSize > 128)
            throw new IllegalArgumentException("subgroup size must be a power of two up to 128, found " + subgroupSize);
        if (maxThreadsPerBlock < subgroupSize) throw new IllegalArgumentException("a block must hold a subgroup: " + maxThreadsPerBlock + " < " + subgroupSize);
        if (maxSharedBytes < 0 || multiprocessors < 1) throw new IllegalArgumentException("shared bytes " + maxSharedBytes + ", multiprocessors " + multiprocessors);
        if (matrix != MatrixUnit.NONE && matrix.lanes != 0 && subgroupSize != matrix.lanes)
            throw new IllegalArgumentException(matrix + " needs " + matrix.lanes + "-lane subgroups, not " + subgroupSize);
    }

    /** The same GPU with another number of multiprocessors (what a runtime reads from its device). */
    public Capabilities withMultiprocessors(int n) {
        return with(f -> f.multiprocessors = n);
    }

    /** The same GPU with another matrix unit (a Vulkan device that has cooperative matrices). */
    public Capabilities withMatrix(MatrixUnit unit) {
        return with(f -> f.matrix = unit);
    }

    /** The same GPU with another subgroup size (a Vulkan device pinned to one of its sizes). */
    public Capabilities withSubgroupSize(int n) {
        return with(f -> f.subgroupSize = n);
    }

    /** The same GPU with or without f16 dot products into f32 ({@code v_dot2_f32_f16}: AMD's). */
    public Capabilities withDot2(boolean d) {
        return with(f -> f.dot2 = d);
    }

    /** The same GPU with or without bulk copies and prefetches (NVIDIA's sm_90+). */
    public Capabilities withBulk(boolean b) {
        return with(f -> f.bulk = b);
    }

    /** The same GPU with or without integer dot products (a Vulkan device that has {@code shaderIntegerDotProduct}). */
    public Capabilities withDot4(boolean d) {
        return with(f -> f.dot4 = d);
    }

    /** The same GPU with or without byte-addressed buffers (a Vulkan device's {@code storageBuffer8BitAccess}). */
    public Capabilities withStorage8(boolean s) {
        return with(f -> f.storage8 = s);
    }

    /** The same GPU with or without grid barriers (a runtime that cannot launch cooperatively takes them away). */
    public Capabilities withGridBarrier(boolean g) {
        return with(f -> f.gridBarrier = g);
    }

    /** The same GPU with or without asynchronous copies to shared memory (NVIDIA's sm_80+). */
    public Capabilities withAsyncCopy(boolean a) {
        return with(f -> f.asyncCopy = a);
    }

    /** The same GPU with {@code bytes} of shared memory a block may opt into ({@code maxSharedBytes}: none beyond what every block has). */
    public Capabilities withOptInShared(int bytes) {
        return with(f -> f.optInSharedBytes = bytes);
    }

    /** The same GPU without shared memory beyond {@code maxSharedBytes} (a runtime that launches with no dynamic shared memory). */
    public Capabilities withoutOptInShared() {
        return withOptInShared(maxSharedBytes);
    }

    /** The same GPU with or without thread block clusters (a runtime that launches them, or not: HIP on NVIDIA does not). */
    public Capabilities withClusters(boolean c) {
        return with(f -> f.clusters = c);
    }

    /** A copy with {@code change} made to its fields (checked again by the canonical constructor). */
    private Capabilities with(java.util.function.Consumer<Fields> change) {
        Fields f = new Fields(this);
        change.accept(f);
        return f.build();
    }

    /** The record's fields, open to one change at a time ({@link #with}). */
    private static final class Fields {
        int subgroupSize, maxThreadsPerBlock, maxSharedBytes, multiprocessors, optInSharedBytes;
        boolean f16Arithmetic, ldmatrix, gridDependency, prefetchL2, dot2, bulk, dot4, storage8, gridBarrier, asyncCopy, clusters;
        MatrixUnit matrix;

        Fields(Capabilities c) {
            subgroupSize = c.subgroupSize;
            maxThreadsPerBlock = c.maxThreadsPerBlock;
            maxSharedBytes = c.maxSharedBytes;
            multiprocessors = c.multiprocessors;
            f16Arithmetic = c.f16Arithmetic;
            matrix = c.matrix;
            ldmatrix = c.ldmatrix;
            gridDependency = c.gridDependency;
            prefetchL2 = c.prefetchL2;
            dot2 = c.dot2;
            bulk = c.bulk;
            dot4 = c.dot4;
            storage8 = c.storage8;
            gridBarrier = c.gridBarrier;
            asyncCopy = c.asyncCopy;
            optInSharedBytes = c.optInSharedBytes;
            clusters = c.clusters;
        }

        Capabilities build() {
            return new Capabilities(subgroupSize, maxThreadsPerBlock, maxSharedBytes, multiprocessors, f16Arithmetic, matrix, ldmatrix, gridDependency, prefetchL2,
                    dot2, bulk, dot4, storage8, gridBarrier, asyncCopy, optInSharedBytes, clusters);
        }
    }
}
