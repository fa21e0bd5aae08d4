package jmlc.compiler.target;

import jmlc.compiler.codegen.CodeGenerator;
import jmlc.compiler.codegen.CudaEmitter;
import jmlc.compiler.codegen.GlslEmitter;
import jmlc.compiler.codegen.HipEmitter;
import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.kernel.Capabilities.MatrixUnit;

/**
 * A GPU the compiler generates kernels for: its platform, its architecture, what it offers
 * ({@link Capabilities}: subgroup width, limits, f16 arithmetic, matrix instructions ...), and the
 * code generator that prints kernels for it. Runtimes make one from the device they found;
 * {@code jmlc compile --target cuda:sm_90} names one without a GPU. Per-target defaults live here.
 */
public record Target(Platform platform, String arch, Capabilities caps) {

    /** SMs of an H100 SXM / H200, and CUs of an MI250X GCD: grid sizes for a target named without a device. */
    static final int DEFAULT_SMS = 132, DEFAULT_CUS = 104;

    /**
     * Parses {@code cuda:sm_90}, {@code cuda:sm_80}, {@code rocm:gfx90a}, {@code rocm:gfx1100} ({@code hip:}
     * is the same as {@code rocm:}), {@code vulkan} (a generic Vulkan GPU), {@code vulkan:sg64} (one with
     * subgroups of 64) or {@code vulkan:coopmat} (one with cooperative matrices).
     */
    public static Target parse(String s) {
        if (s.equals("vulkan")) return vulkan("generic", VULKAN_GENERIC);
        String[] p = s.split(":", 2);
        if (p.length != 2 || p[1].isEmpty()) throw new IllegalArgumentException("target '" + s + "' should look like cuda:sm_90, rocm:gfx1100 or vulkan");
        return switch (Platform.parse(p[0])) {
            case CUDA -> cuda(p[1], DEFAULT_SMS);
            case ROCM -> rocm(p[1], DEFAULT_CUS);
            case VULKAN -> vulkanNamed(p[1]);
            case CPU -> throw new IllegalArgumentException("target '" + s + "': the CPU runs the graph with Java kernels, no code is generated for it; name a GPU target such as cuda:sm_90 or rocm:gfx1100");
        };
    }

    /**
     * A Vulkan GPU jmlc can assume without seeing it: subgroups of 32, 1024 invocations a workgroup,
     * 32 KiB of workgroup memory (small GPUs have no more), f16 arithmetic, no matrix unit.
     */
    static final Capabilities VULKAN_GENERIC = new Capabilities(32, 1024, 32 * 1024, 64, true, MatrixUnit.NONE, false, false, false);

    /**
     * {@code generic}; {@code sgN}: the generic Vulkan GPU with subgroups of N; {@code coopmat}: with
     * cooperative matrices (16×16×16, f16 into f32, at subgroup scope: NVIDIA's driver has them).
     */
    private static Target vulkanNamed(String arch) {
        if (arch.equals("generic")) return vulkan(arch, VULKAN_GENERIC);
        if (arch.equals("coopmat")) return vulkan(arch, VULKAN_GENERIC.withMatrix(MatrixUnit.COOPERATIVE_16X16X16));
        if (arch.matches("sg\\d+")) return vulkan(arch, VULKAN_GENERIC.withSubgroupSize(Integer.parseInt(arch.substring(2))));
        throw new IllegalArgumentException("Vulkan target 'vulkan:" + arch + "' should be vulkan, vulkan:generic, vulkan:sgN (subgroups of N) or vulkan:coopmat; "
                + "a device's own target comes from its runtime");
    }

    /**
     * A Vulkan device as its runtime found it: {@code arch} names it ({@code nvidia_h200}, {@code llvmpipe}),
     * {@code caps} are what it reported (its subgroup size, limits, whether it has f16 arithmetic).
     */
    public static Target vulkan(String arch, Capabilities caps) {
        if (!arch.matches("[a-z0-9_]+")) throw new IllegalArgumentException("a Vulkan target's name is lowercase words and digits: '" + arch + "'");
        return new Target(Platform.VULKAN, arch, caps);
    }

    /**
     * An NVIDIA GPU of compute capability {@code arch} ({@code sm_80}, {@code sm_90}, {@code sm_90a})
     * with {@code sms} multiprocessors: 32-lane warps, 48 KiB of shared memory without opting in,
     * f16x2 arithmetic (sm_53+), mma.sync m16n8k16 (sm_80+), ldmatrix (sm_75+), programmatic
     * dependent launch (sm_90+), L2 prefetch (by line; by range with cp.async.bulk, sm_90+), dp4a (sm_61+),
     * grid barriers in cooperatively launched kernels (sm_60+), asynchronous copies to shared memory (cp.async, sm_80+),
     * dynamic shared memory beyond 48 KiB by opting in ({@link #optInShared}), thread block clusters (sm_90+).
     */
    public static Target cuda(String arch, int sms) {
        if (!arch.matches("sm_\\d+a?")) throw new IllegalArgumentException("CUDA arch '" + arch + "' should look like sm_90");
        int cc = Integer.parseInt(arch.replaceAll("\\D", ""));
        return new Target(Platform.CUDA, arch, new Capabilities(32, 1024, 48 * 1024, sms, cc >= 53,
                cc >= 80 ? MatrixUnit.MMA_M16N8K16 : MatrixUnit.NONE, cc >= 75, cc >= 90, true)
                .withBulk(cc >= 90).withDot4(cc >= 61).withGridBarrier(cc >= 60).withAsyncCopy(cc >= 80).withOptInShared(optInShared(cc)).withClusters(cc >= 90));
    }

    /**
     * Shared memory a block of compute capability {@code cc} may have by opting in (CUDA C Programming Guide,
     * "Technical Specifications per Compute Capability", maximum shared memory per thread block): 227 KiB on
     * sm_90, 163 KiB on sm_80 and sm_87, 99 KiB on sm_86 and sm_89, 64 KiB on sm_75, 96 KiB on sm_70 and sm_72;
     * 48 KiB before Volta, and on a later architecture jmlc does not know yet (a guess that could fail to launch).
     */
    static int optInShared(int cc) {
        return switch (cc) {
            case 90 -> 227 * 1024;
            case 80, 87 -> 163 * 1024;
            case 86, 89 -> 99 * 1024;
            case 75 -> 64 * 1024;
            case 70, 72 -> 96 * 1024;
            default -> 48 * 1024;
        };
    }

    /**
     * An AMD GPU ({@code gfx90a}, {@code gfx942}, {@code gfx1030}, {@code gfx1100} ...; a device's
     * feature suffix such as {@code :sramecc+:xnack-} is dropped) with {@code cus} compute units.
     * What each family offers (AMD's ISA guides; LLVM's AMDGPU processor table), in one place:
     * <ul>
     * <li>wavefronts of 64 lanes on GCN and CDNA (gfx9), 32 on RDNA (gfx10, gfx11, gfx12: HIP's default there);
     * <li>LDS a workgroup may use: 64 KiB, 160 KiB on gfx950 ({@link #ldsBytes});
     * <li>packed f16 arithmetic ({@code v_pk_fma_f16}) on gfx9 and later;
     * <li>{@code v_dot2_f32_f16} ({@link Capabilities#dot2()}): gfx906, gfx908, gfx90a, gfx94x, gfx950,
     *     gfx1011, gfx1012, gfx103x, gfx11, gfx12, not gfx900/902/904/909/90c, gfx1010, gfx1013;
     * <li>matrix units: WMMA 16×16×16 on RDNA3 (gfx11), MFMA 16×16×16 on CDNA (gfx908, gfx90a, gfx94x,
     *     gfx950); none on RDNA1/2, and gfx12's WMMA (another register layout) is not used yet.
     * </ul>
     */
    public static Target rocm(String arch, int cus) {
        arch = arch.contains(":") ? arch.substring(0, arch.indexOf(':')) : arch;
        if (!arch.matches("gfx[0-9a-f]+")) throw new IllegalArgumentException("AMD arch '" + arch + "' should look like gfx90a or gfx1100");
        boolean rdna = arch.matches("gfx1[0-2][0-9a-f]{2}");
        if (!rdna && !arch.matches("gfx9[0-9a-f]{1,2}"))
            throw new IllegalArgumentException("AMD arch '" + arch + "' is not one jmlc knows: GCN5/CDNA gfx9xx or RDNA gfx10xx, gfx11xx, gfx12xx");
        boolean dot2 = !arch.matches("gfx90[0249c]|gfx101[03]");
        MatrixUnit matrix = arch.startsWith("gfx11") ? MatrixUnit.WMMA_16X16X16
                : arch.matches("gfx908|gfx90a|gfx94[0-9a-f]|gfx950") ? MatrixUnit.MFMA_16X16X16 : MatrixUnit.NONE;
        return new Target(Platform.ROCM, arch, new Capabilities(rdna ? 32 : 64, 1024, ldsBytes(arch), cus, true,
                matrix, false, false, false).withDot2(dot2));
    }

    /** LDS one workgroup may allocate on {@code arch}: 64 KiB, or 160 KiB on gfx950 (MI355X). */
    static int ldsBytes(String arch) {
        return arch.equals("gfx950") ? 160 * 1024 : 64 * 1024;
    }

    /**
     * The CPU as a target of the tuner (not of code generation): {@code arch} names the machine's
     * instruction set and vector width ({@code amd64_512}), {@code lanes} the f32 lanes of a vector,
     * {@code cores} the threads kernels split work over. Its kernels are the CPU runtime's Java ones.
     */
    public static Target cpu(String arch, int lanes, int cores) {
        if (!arch.matches("[A-Za-z0-9_]+")) throw new IllegalArgumentException("CPU arch '" + arch + "' should be letters, digits and _");
        return new Target(Platform.CPU, arch, new Capabilities(Integer.highestOneBit(Math.max(1, lanes)), Math.max(lanes, 1), 0, Math.max(1, cores), false,
                MatrixUnit.NONE, false, false, false));
    }

    /** The code generator that prints kernels for this target. */
    public CodeGenerator codegen() {
        return switch (platform) {
            case CUDA -> new CudaEmitter();
            case ROCM -> new HipEmitter(caps.subgroupSize());
            case VULKAN -> new GlslEmitter(caps);
            case CPU -> throw new UnsupportedOperationException("the CPU runs the graph with Java Vector API kernels; no code is generated for " + this);
        };
    }

    /** Threads of a warp / wavefront / subgroup. */
    public int warpSize() {
        return caps.subgroupSize();
    }

    public int multiprocessors() {
        return caps.multiprocessors();
    }

    /** This target on a device with {@code n} multiprocessors (grids are sized by it). */
    public Target withMultiprocessors(int n) {
        return new Target(platform, arch, caps.withMultiprocessors(n));
    }

    @Override
    public String toString() {
        return platform.id + ":" + arch;
    }
}
