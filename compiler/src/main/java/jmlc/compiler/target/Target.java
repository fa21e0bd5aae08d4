package jmlc.compiler.target;

import jmlc.compiler.codegen.Dialect;

/**
 * What the compiler needs to know of a GPU: its language, warp width, limits and size. Runtimes
 * fill it from the device they found; {@code jmlc compile --target cuda:sm_90} names one without a GPU.
 *
 * @param backend            {@code cuda} or {@code hip}
 * @param arch               {@code sm_90}, {@code gfx90a}
 * @param warpSize           threads per warp / wavefront
 * @param maxThreadsPerBlock usually 1024
 * @param maxSharedBytes     shared memory one block may use without opting in (48 KiB)
 * @param multiprocessors    SMs / CUs (sizes grids so every one has work)
 * @param tensorCores        whether {@code mma.sync} m16n8k16 f16 is available (sm_80+)
 */
public record Target(String backend, String arch, int warpSize, int maxThreadsPerBlock, int maxSharedBytes,
                     int multiprocessors, boolean tensorCores) {

    /** Parses {@code cuda:sm_90}, {@code cuda:sm_80}, {@code hip:gfx90a}, {@code hip:gfx1030}. */
    public static Target parse(String s) {
        String[] p = s.split(":", 2);
        if (p.length != 2) throw new IllegalArgumentException("target '" + s + "' should look like cuda:sm_90 or hip:gfx90a");
        return switch (p[0]) {
            case "cuda" -> cuda(p[1], 132);
            case "hip" -> hip(p[1], 104);
            default -> throw new IllegalArgumentException("unknown target backend '" + p[0] + "' in '" + s + "': expected cuda or hip");
        };
    }

    public static Target cuda(String arch, int sms) {
        if (!arch.matches("sm_\\d+a?")) throw new IllegalArgumentException("CUDA arch '" + arch + "' should look like sm_90");
        int cc = Integer.parseInt(arch.replaceAll("\\D", ""));
        return new Target("cuda", arch, 32, 1024, 48 * 1024, sms, cc >= 80);
    }

    public static Target hip(String arch, int cus) {
        if (!arch.matches("gfx[0-9a-f]+")) throw new IllegalArgumentException("HIP arch '" + arch + "' should look like gfx90a");
        boolean wave32 = arch.startsWith("gfx10") || arch.startsWith("gfx11") || arch.startsWith("gfx12");
        return new Target("hip", arch, wave32 ? 32 : 64, 1024, 64 * 1024, cus, false);
    }

    public Dialect dialect() {
        return switch (backend) {
            case "cuda" -> Dialect.CUDA;
            case "hip" -> Dialect.hip(warpSize);
            default -> throw new IllegalStateException("no C dialect for " + backend);
        };
    }

    @Override
    public String toString() {
        return backend + ":" + arch;
    }
}
