package jmlc.engine.runtime.cuda;

import jmlc.engine.runtime.gpu.GpuException;
import jmlc.engine.runtime.gpu.KernelCompileException;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import static org.bytedeco.cuda.global.nvrtc.*;

/**
 * Compiles kernel sources to cubin for one GPU architecture with NVRTC, caching the cubins on disk
 * by the hash of source, architecture, options and NVRTC version
 * ({@code $JMLC_CACHE/kernels}, default {@code ~/.cache/jmlc/kernels}).
 */
final class Nvrtc {
    private final String arch;
    private final String[] options;
    private final Path cacheDir;
    private final String version;

    Nvrtc(String arch) {
        this.arch = arch;
        this.options = new String[] {"--gpu-architecture=" + arch, "-std=c++17"};
        int[] major = new int[1], minor = new int[1];
        check(nvrtcVersion(major, minor), "nvrtcVersion");
        this.version = major[0] + "." + minor[0];
        String base = System.getenv("JMLC_CACHE");
        this.cacheDir = (base != null ? Path.of(base) : Path.of(System.getProperty("user.home"), ".cache", "jmlc")).resolve("kernels").resolve(arch);
    }

    String version() {
        return version;
    }

    /** The cubin of {@code source}, from the cache or freshly compiled. */
    byte[] compile(String kernelName, String source) {
        String key = hash(source + "\n" + String.join(" ", options) + "\nnvrtc " + version);
        Path cached = cacheDir.resolve(kernelName + "-" + key.substring(0, 16) + ".cubin");
        try {
            if (Files.exists(cached)) return Files.readAllBytes(cached);
        } catch (IOException e) {
            // unreadable cache entry: compile again
        }
        byte[] cubin = compileNow(kernelName, source);
        try {
            Files.createDirectories(cacheDir);
            Path tmp = Files.createTempFile(cacheDir, kernelName, ".tmp");
            Files.write(tmp, cubin);
            Files.move(tmp, cached, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // a read-only home still runs, just without the cache
        }
        return cubin;
    }

    private byte[] compileNow(String kernelName, String source) {
        _nvrtcProgram prog = new _nvrtcProgram();
        try (BytePointer src = new BytePointer(source, StandardCharsets.UTF_8); BytePointer name = new BytePointer(kernelName + ".cu")) {
            check(nvrtcCreateProgram(prog, src, name, 0, (PointerPointer<?>) null, (PointerPointer<?>) null), "nvrtcCreateProgram(" + kernelName + ")");
        }
        try (PointerPointer<BytePointer> opts = new PointerPointer<>(options)) {
            int status = nvrtcCompileProgram(prog, options.length, opts);
            if (status != NVRTC_SUCCESS) throw new KernelCompileException(kernelName, "NVRTC " + version + " for " + arch, log(prog), source);
            try (SizeTPointer size = new SizeTPointer(1)) {
                check(nvrtcGetCUBINSize(prog, size), "nvrtcGetCUBINSize");
                byte[] cubin = new byte[(int) size.get()];
                check(nvrtcGetCUBIN(prog, cubin), "nvrtcGetCUBIN");
                return cubin;
            }
        } finally {
            nvrtcDestroyProgram(prog);
        }
    }

    private static String log(_nvrtcProgram prog) {
        try (SizeTPointer size = new SizeTPointer(1)) {
            if (nvrtcGetProgramLogSize(prog, size) != NVRTC_SUCCESS) return "(no log)";
            byte[] log = new byte[(int) size.get()];
            nvrtcGetProgramLog(prog, log);
            return new String(log, StandardCharsets.UTF_8).replace("\0", "");
        }
    }

    private static void check(int status, String call) {
        if (status != NVRTC_SUCCESS) throw new GpuException(call + " failed: " + nvrtcGetErrorString(status).getString() + " (" + status + ")");
    }

    private static String hash(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
