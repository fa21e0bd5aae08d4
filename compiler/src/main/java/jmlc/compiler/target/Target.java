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
     * is the same as {@code rocm:}), {@code vulkan} (a generic Vulkan GPU) or {@code vulkan:sg64} (one with
     * subgroups of 64).
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

    /** {@code generic}, or {@code sgN}: the generic Vulkan GPU with subgroups of N. */
    private static Target vulkanNamed(String arch) {
        if (arch.equals("generic")) return vulkan(arch, VULKAN_GENERIC);
        if (arch.matches("sg\\d+")) return vulkan(arch, VULKAN_GENERIC.withSubgroupSize(Integer.parseInt(arch.substring(2))));
        throw new IllegalArgumentException("Vulkan target 'vulkan:" + arch + "' should be vulkan, vulkan:generic or vulkan:sgN (subgroups of N); "
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
     * dependent launch (sm_90+), L2 prefetch.
     */
    public static Target cuda(String arch, int sms) {
        if (!arch.matches("sm_\\d+a?")) throw new IllegalArgumentException("CUDA arch '" + arch + "' should look like sm_90");
        int cc = Integer.parseInt(arch.replaceAll("\\D", ""));
        return new Target(Platform.CUDA, arch, new Capabilities(32, 1024, 48 * 1024, sms, cc >= 53,
                cc >= 80 ? MatrixUnit.MMA_M16N8K16 : MatrixUnit.NONE, cc >= 75, cc >= 90, true));
    }

    /**
     * An AMD GPU ({@code gfx90a}, {@code gfx942}, {@code gfx1030}, {@code gfx1100}) with {@code cus}
     * compute units: wave64 on GCN/CDNA (gfx9), wave32 on RDNA (gfx10, gfx11, gfx12), 64 KiB of LDS,
     * packed f16 arithmetic. Matrix cores (MFMA, WMMA) are not used by the rules yet.
     */
    public static Target rocm(String arch, int cus) {
        if (!arch.matches("gfx[0-9a-f]+")) throw new IllegalArgumentException("AMD arch '" + arch + "' should look like gfx90a or gfx1100");
        boolean wave32 = arch.startsWith("gfx10") || arch.startsWith("gfx11") || arch.startsWith("gfx12");
        return new Target(Platform.ROCM, arch, new Capabilities(wave32 ? 32 : 64, 1024, 64 * 1024, cus, true,
                MatrixUnit.NONE, false, false, false));
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
