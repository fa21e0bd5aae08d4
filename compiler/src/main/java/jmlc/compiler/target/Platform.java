package jmlc.compiler.target;

/**
 * The GPU platforms jmlc generates code for, and the CPU. Each has one name in code and on the
 * command line (its target and device-id prefix: {@code cuda:sm_90}, {@code rocm:gfx1100}) and a
 * language: what its code generator prints, or for the CPU, the Java kernels that run the graph.
 */
public enum Platform {
    CUDA("cuda", "CUDA C"),
    /** AMD GPUs; the language is HIP, and {@code hip:} is accepted as another spelling of the target. */
    ROCM("rocm", "HIP"),
    /** Any GPU with a Vulkan 1.2 driver: GLSL compute shaders compiled to SPIR-V. */
    VULKAN("vulkan", "GLSL"),
    /**
     * The CPU: no code is generated (it runs the graph with Java Vector API kernels), but its
     * kernels have knobs (tiles, splits) that the tuner searches and the tuning database keys by target.
     */
    CPU("cpu", "Java (Vector API)");

    /** The target and device-id prefix. */
    public final String id;
    public final String language;

    Platform(String id, String language) {
        this.id = id;
        this.language = language;
    }

    /** The platform a target prefix names: {@code cuda}, {@code rocm} (or {@code hip}). */
    public static Platform parse(String prefix) {
        return switch (prefix) {
            case "cuda" -> CUDA;
            case "rocm", "hip" -> ROCM;
            case "vulkan" -> VULKAN;
            case "cpu" -> CPU;
            default -> throw new IllegalArgumentException("unknown GPU platform '" + prefix + "': expected cuda, rocm (hip) or vulkan");
        };
    }
}
