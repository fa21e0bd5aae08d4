package jmlc.engine.runtime.vulkan;

import jmlc.engine.runtime.gpu.GpuException;
import jmlc.engine.runtime.gpu.KernelCompileException;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import static org.lwjgl.util.shaderc.Shaderc.*;

/**
 * GLSL compute shaders to SPIR-V for Vulkan 1.2 with shaderc (LWJGL's build of Google's shaderc),
 * cached on disk by the hash of source, options and shaderc's SPIR-V version
 * ({@code $JMLC_CACHE/kernels/vulkan}, default {@code ~/.cache/jmlc/kernels/vulkan}), as {@code Nvrtc}
 * caches cubins. Needs no device: {@code jmlc compile --target vulkan} writes SPIR-V with it too.
 * Thread-safe (the runner compiles kernels in parallel): shaderc's compiler object may be shared,
 * options are made per call.
 */
public final class ShaderCompiler implements AutoCloseable {
    /** Optimization: shaderc's -O (spirv-opt's performance passes), which drivers' own compilers build on. */
    private static final String OPTIONS = "vulkan1.2 spirv1.5 -O";
    private final long compiler;
    private final Path cacheDir;
    private final String version;

    public ShaderCompiler() {
        this(System.getenv("JMLC_CACHE") != null ? Path.of(System.getenv("JMLC_CACHE")) : Path.of(System.getProperty("user.home"), ".cache", "jmlc"));
    }

    /** A compiler whose SPIR-V cache lies under {@code cacheBase/kernels/vulkan}. */
    ShaderCompiler(Path cacheBase) {
        long c;
        try {
            c = shaderc_compiler_initialize();
        } catch (Throwable t) {
            throw new GpuException("shaderc (LWJGL's lwjgl-shaderc natives for linux-x86_64) could not be loaded: " + t);
        }
        if (c == 0) throw new GpuException("shaderc_compiler_initialize failed");
        this.compiler = c;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer v = stack.mallocInt(1), r = stack.mallocInt(1);
            shaderc_get_spv_version(v, r);
            this.version = "spv " + Integer.toHexString(v.get(0)) + " rev " + r.get(0);
        }
        this.cacheDir = cacheBase.resolve("kernels").resolve("vulkan");
    }

    /** Whether shaderc's natives load on this machine (for {@code jmlc compile}, which writes SPIR-V only where they do). */
    public static String unavailable() {
        try {
            long c = shaderc_compiler_initialize();
            if (c == 0) return "shaderc_compiler_initialize failed";
            shaderc_compiler_release(c);
            return "";
        } catch (Throwable t) {
            return "shaderc could not be loaded: " + t;
        }
    }

    /**
     * The SPIR-V words of {@code source} (a GLSL compute shader), from the cache or freshly compiled:
     * exactly this source's module, its specialization constants' defaults included (what
     * {@code jmlc compile --emit} writes).
     */
    public byte[] compile(String kernelName, String source) {
        String key = key(source);
        return cached(kernelName, source, kernelName + "-" + key, key);
    }

    /**
     * The SPIR-V of {@code source} for a runtime that specializes every pipeline it makes
     * (GlslEmitter's open knobs): shaders that differ only in their comments and in the defaults
     * of their specialization constants share one module, compiled once (a tuner's candidates
     * that differ in such knobs), so the module's defaults may be another kernel's.
     */
    public byte[] compileSpecialized(String kernelName, String source) {
        String generic = generic(source);
        if (generic.equals(withoutComments(source))) return compile(kernelName, source);
        String key = key(generic);
        return cached(kernelName, source, "specialized-" + key, key);
    }

    /** The source without its comment lines and with every specialization constant's default as {@code _}. */
    static String generic(String source) {
        return SPEC_DEFAULT.matcher(withoutComments(source)).replaceAll("$1_;");
    }

    private static final java.util.regex.Pattern SPEC_DEFAULT =
            java.util.regex.Pattern.compile("(layout\\(constant_id = \\d+\\) const int \\w+ = )-?\\d+;");

    private static String withoutComments(String source) {
        return source.lines().filter(l -> !l.startsWith("//")).collect(java.util.stream.Collectors.joining("\n"));
    }

    /** Shaders shaderc compiled in this process (not found in the cache). */
    int compilations() {
        return compilations.get();
    }

    private final java.util.concurrent.atomic.AtomicInteger compilations = new java.util.concurrent.atomic.AtomicInteger();

    private String key(String text) {
        return hash(text + "\n" + OPTIONS + "\nshaderc " + version).substring(0, 16);
    }

    /** The SPIR-V in the cache as {@code file}.spv, else compiled from {@code source} and put there. */
    private byte[] cached(String kernelName, String source, String file, String key) {
        Path cached = cacheDir.resolve(file + ".spv");
        try {
            if (Files.exists(cached)) return Files.readAllBytes(cached);
        } catch (IOException e) {
            // unreadable cache entry: compile again
        }
        byte[] spv = compileNow(kernelName, source, key);
        try {
            Files.createDirectories(cacheDir);
            Path tmp = Files.createTempFile(cacheDir, kernelName, ".tmp");
            Files.write(tmp, spv);
            Files.move(tmp, cached, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // a read-only home still runs, just without the cache
        }
        return spv;
    }

    private byte[] compileNow(String kernelName, String source, String key) {
        compilations.incrementAndGet();
        long options = shaderc_compile_options_initialize();
        try {
            shaderc_compile_options_set_target_env(options, shaderc_target_env_vulkan, shaderc_env_version_vulkan_1_2);
            shaderc_compile_options_set_target_spirv(options, shaderc_spirv_version_1_5);
            shaderc_compile_options_set_optimization_level(options, shaderc_optimization_level_performance);
            long result;
            // the source on the heap: LWJGL encodes a CharSequence argument on its 64 KB thread stack,
            // and an unrolled kernel's source can be larger
            ByteBuffer text = MemoryUtil.memUTF8(source, false);
            try (MemoryStack stack = MemoryStack.stackPush()) {
                result = shaderc_compile_into_spv(compiler, text, shaderc_glsl_compute_shader, stack.UTF8(kernelName + ".comp"), stack.UTF8("main"), options);
            } finally {
                MemoryUtil.memFree(text);
            }
            if (result == 0) throw new GpuException("shaderc_compile_into_spv(" + kernelName + ") returned no result (out of memory?)");
            try {
                if (shaderc_result_get_compilation_status(result) != shaderc_compilation_status_success) {
                    String log = shaderc_result_get_error_message(result);
                    throw new KernelCompileException(kernelName, "shaderc (" + version + ", GLSL source written to " + writeSource(kernelName, key, source) + ")",
                            log == null ? "(no log)" : log, source);
                }
                ByteBuffer bytes = shaderc_result_get_bytes(result);
                byte[] spv = new byte[bytes.remaining()];
                bytes.get(spv);
                return spv;
            } finally {
                shaderc_result_release(result);
            }
        } finally {
            shaderc_compile_options_release(options);
        }
    }

    /** Writes a shader that failed to compile where the user can open it; the path, or why it could not be written. */
    private Path writeSource(String kernelName, String key, String source) {
        Path file = cacheDir.resolve("failed").resolve(kernelName + "-" + key + ".comp");
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, source);
            return file;
        } catch (IOException e) {
            try {
                Path tmp = Files.createTempFile(kernelName + "-", ".comp");
                Files.writeString(tmp, source);
                return tmp;
            } catch (IOException e2) {
                return Path.of("(not written: " + e2.getMessage() + ")");
            }
        }
    }

    /** shaderc's SPIR-V version, part of the cache key. */
    public String version() {
        return version;
    }

    @Override
    public void close() {
        shaderc_compiler_release(compiler);
    }

    private static String hash(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
