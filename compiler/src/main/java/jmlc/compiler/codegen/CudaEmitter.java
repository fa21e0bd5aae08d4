package jmlc.compiler.codegen;

import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.kernel.Shared;
import jmlc.compiler.kernel.Stmt;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * CUDA C for NVRTC and nvcc. f16 conversions and packed f16x2 arithmetic go through inline PTX,
 * so kernels need no headers; tensor-core steps, fragment loads, grid dependencies (Hopper's
 * programmatic dependent launch), L2 prefetches, and bulk copies with their copy barriers are inline PTX too.
 */
public final class CudaEmitter extends CEmitter {

    private static final String F16_VIA_PTX = """
            // f16 values travel as raw 16-bit patterns (half2 as a 32-bit register); conversions and
            // packed arithmetic through PTX need no headers under NVRTC
            __device__ __forceinline__ float jmlc_h2f(unsigned short h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
            __device__ __forceinline__ unsigned short jmlc_f2h(float f) { unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
            __device__ __forceinline__ unsigned int jmlc_hadd2(unsigned int a, unsigned int b) { unsigned int d; asm("add.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b)); return d; }
            __device__ __forceinline__ unsigned int jmlc_hsub2(unsigned int a, unsigned int b) { unsigned int d; asm("sub.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b)); return d; }
            __device__ __forceinline__ unsigned int jmlc_hmul2(unsigned int a, unsigned int b) { unsigned int d; asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b)); return d; }
            __device__ __forceinline__ unsigned int jmlc_hfma2(unsigned int a, unsigned int b, unsigned int c) { unsigned int d; asm("fma.rn.f16x2 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c)); return d; }
            // (a & b) | c in one lop3 (0xEA = (0xF0 & 0xCC) | 0xAA)
            __device__ __forceinline__ unsigned int jmlc_and_or(unsigned int a, unsigned int b, unsigned int c) { unsigned int d; asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(d) : "r"(a), "r"(b), "r"(c)); return d; }
            // c + the dot product of a's and b's four signed bytes (sm_61+)
            __device__ __forceinline__ int jmlc_dot4(unsigned int a, unsigned int b, int c) { int d; asm("dp4a.s32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c)); return d; }
            // the address of *p in the shared memory of the block of rank r in this block's cluster (sm_90+: a
            // template, so only a kernel that uses it instantiates mapa). A plain load through it, not a volatile asm:
            // the compiler may then issue a thread's loads together, and the cluster barrier's memory clobber still
            // keeps them after it
            template <int U = 0> __device__ __forceinline__ const float* jmlc_cluster_f32(const float* p, unsigned int r) {
              unsigned long long q;
              asm("mapa.u64 %0, %1, %2;" : "=l"(q) : "l"(p), "r"(r));
              return (const float*)q;
            }
            // copy barriers (mbarrier, sm_90+; templates too): set up for one arrival a phase and made visible to the
            // copy engine; an arrival whose phase also awaits bytes of bulk copies; a wait until the last phase of a
            // parity has completed
            template <int U = 0> __device__ __forceinline__ void jmlc_mbar_init(uint2* b) {
              asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"((unsigned int)__cvta_generic_to_shared(b)), "r"(1) : "memory");
              asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
            }
            template <int U = 0> __device__ __forceinline__ void jmlc_mbar_expect(uint2* b, int bytes) {
              asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"((unsigned int)__cvta_generic_to_shared(b)), "r"(bytes) : "memory");
            }
            template <int U = 0> __device__ __forceinline__ void jmlc_mbar_wait(uint2* b, int parity) {
              unsigned int done;
              do {
                asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2; selp.u32 %0, 1, 0, p; }"
                             : "=r"(done) : "r"((unsigned int)__cvta_generic_to_shared(b)), "r"(parity) : "memory");
              } while (!done);
            }
            """;

    @Override
    public String language() {
        return "CUDA C";
    }

    @Override
    public String fileExtension() {
        return "cu";
    }

    @Override
    protected String prelude() {
        return F16_VIA_PTX;
    }

    @Override
    protected String dot4(String a, String b, String c) {
        return "jmlc_dot4(" + a + ", " + b + ", " + c + ")";
    }

    @Override
    protected String andOr(String a, String mask, String bits) {
        return "jmlc_and_or(" + a + ", " + mask + ", " + bits + ")";
    }

    @Override
    protected String clusterDims(int x, int y, int z) {
        return "__cluster_dims__(" + x + ", " + y + ", " + z + ")";
    }

    /** Arrive with release (this block's shared-memory writes before it visible to the cluster), wait with acquire. */
    @Override
    protected String clusterBarrier() {
        return "asm volatile(\"barrier.cluster.arrive.release.aligned;\\n\\tbarrier.cluster.wait.acquire.aligned;\" ::: \"memory\");";
    }

    @Override
    protected String sharedLoadByRank(String array, String index, String rank, KType t) {
        if (!t.equals(KType.F32)) throw new UnsupportedOperationException("CUDA C: another block's shared memory is read as f32 here, not " + t);
        return "(*jmlc_cluster_f32(&" + array + "[" + index + "], (unsigned int)(" + rank + ")))";
    }

    @Override
    protected String shuffleXor(String value, int mask) {
        return "__shfl_xor_sync(0xffffffffu, " + value + ", " + mask + ")";
    }

    @Override
    protected String mma(List<String> acc, List<String> a, List<String> b) {
        String accs = acc.stream().map(v -> "\"+f\"(" + v + ")").collect(Collectors.joining(", "));
        List<String> ins = new ArrayList<>();
        for (String e : a) ins.add("\"r\"(" + e + ")");
        for (String e : b) ins.add("\"r\"(" + e + ")");
        return "asm volatile(\"mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\" : "
                + accs + " : " + String.join(", ", ins) + ");";
    }

    @Override
    protected String ldmatrix(List<String> dst, String array, String index) {
        String outs = dst.stream().map(v -> "\"=r\"(" + v + ")").collect(Collectors.joining(", "));
        return "asm volatile(\"ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\" : " + outs
                + " : \"r\"((unsigned int)__cvta_generic_to_shared(&" + array + "[" + index + "])) : \"memory\");";
    }

    @Override
    protected String gridDependency(Stmt.GridDependency.Kind kind) {
        return kind == Stmt.GridDependency.Kind.WAIT ? "asm volatile(\"griddepcontrol.wait;\" ::: \"memory\");"
                : "asm volatile(\"griddepcontrol.launch_dependents;\");";
    }

    /** Shared memory a CUDA block has without opting in: static arrays stop here. */
    public static final int STATIC_SHARED_BYTES = 48 * 1024;

    /**
     * The dynamic shared memory a kernel is launched with: 0 where its arrays fit {@link #STATIC_SHARED_BYTES}
     * (static arrays), else their bytes laid out one after another from 16-byte boundaries ({@link #dynamicOffsets}),
     * which the runtime opts in for ({@code CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES}) and passes at every launch.
     */
    public static int dynamicSharedBytes(Kernel k) {
        // the 16-byte layout bounds the static one (no array is aligned to more), so arrays that fit it fit statically
        int[] at = dynamicOffsets(k);
        return at[at.length - 1] <= STATIC_SHARED_BYTES ? 0 : at[at.length - 1];
    }

    /** Where each shared array starts in the dynamic array, 16-byte aligned, in declaration order; last, the padded total. */
    private static int[] dynamicOffsets(Kernel k) {
        List<Shared> arrays = k.shared();
        int[] at = new int[arrays.size() + 1];
        for (int i = 0; i < arrays.size(); i++) at[i + 1] = align16(at[i] + arrays.get(i).bytes());
        return at;
    }

    private static int align16(int n) {
        return (n + 15) & ~15;
    }

    /** Static arrays from a 16-byte boundary too, as the dynamic ones are: a 16-byte cp.async may copy into a u32 array. */
    @Override
    protected String staticShared() {
        return "__shared__ __align__(16)";
    }

    /** Above 48 KiB, one dynamic array carved into the kernel's, each from a 16-byte boundary (see {@link #dynamicSharedBytes}). */
    @Override
    void sharedDeclarations(StringBuilder sb, Kernel k) {
        int bytes = dynamicSharedBytes(k);
        if (bytes == 0) {
            super.sharedDeclarations(sb, k);
            return;
        }
        sb.append("  extern __shared__ __align__(16) unsigned char jmlc_dynamic_shared[]; // ").append(bytes).append(" bytes, opted in at load\n");
        int[] at = dynamicOffsets(k);
        for (int i = 0; i < k.shared().size(); i++) {
            Shared s = k.shared().get(i);
            sb.append("  ").append(type(s.element())).append("* ").append(s.name()).append(" = (").append(type(s.element())).append("*)(jmlc_dynamic_shared + ").append(at[i]).append(");\n");
        }
    }

    /** 16 bytes bypass L1 ({@code .cg}, the only size it takes); 4 and 8 go through it ({@code .ca}). */
    @Override
    protected String asyncCopy(String dst, String src, int bytes) {
        return "asm volatile(\"cp.async." + (bytes == 16 ? "cg" : "ca") + ".shared.global [%0], [%1], " + bytes + ";\" :: \"r\"((unsigned int)__cvta_generic_to_shared("
                + dst + ")), \"l\"(" + src + ") : \"memory\");";
    }

    @Override
    protected String asyncCommit() {
        return "asm volatile(\"cp.async.commit_group;\" ::: \"memory\");";
    }

    @Override
    protected String asyncWait(int pending) {
        return "asm volatile(\"cp.async.wait_group " + pending + ";\" ::: \"memory\");";
    }

    /** One instruction for the copy engine (sm_90+); its bytes complete on the barrier's current phase. */
    @Override
    protected String bulkCopy(String dst, String src, String bytes, String bar) {
        return "asm volatile(\"cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\" :: \"r\"((unsigned int)__cvta_generic_to_shared("
                + dst + ")), \"l\"(" + src + "), \"r\"(" + bytes + "), \"r\"((unsigned int)__cvta_generic_to_shared(" + bar + ")) : \"memory\");";
    }

    /** Through the prelude's helpers ({@code jmlc_mbar_*}). */
    @Override
    protected String copyBarrier(Stmt.CopyBarrier.Op op, String bar, String arg) {
        return switch (op) {
            case INIT -> "jmlc_mbar_init(" + bar + ");";
            case EXPECT -> "jmlc_mbar_expect(" + bar + ", " + arg + ");";
            case WAIT -> "jmlc_mbar_wait(" + bar + ", " + arg + ");";
        };
    }

    @Override
    protected String prefetchL2Range(String address, String bytes) {
        return "asm volatile(\"cp.async.bulk.prefetch.L2.global [%0], %1;\" :: \"l\"(" + address + "), \"r\"(" + bytes + "));";
    }

    @Override
    protected String prefetchL2(String address) {
        return "asm volatile(\"prefetch.global.L2 [%0];\" :: \"l\"(" + address + "));";
    }
}
