package jmlc.engine.runtime.rocm;

import jmlc.compiler.target.Platform;
import jmlc.compiler.target.Target;
import jmlc.engine.runtime.gpu.GpuException;
import jmlc.engine.runtime.gpu.KernelCompileException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Compiles kernel sources for one device with hiprtc: to an AMDGPU code object for the device's
 * {@code gfx} architecture ({@code --offload-arch}), or, under HIP on NVIDIA, to a cubin through
 * NVRTC's options. Code objects are cached on disk by the hash of source, options, hiprtc and HIP
 * versions ({@code $JMLC_CACHE/kernels/<arch>}, default {@code ~/.cache/jmlc/kernels}).
 */
final class Hiprtc {
    private final Hip hip;
    private final List<String> options;
    private final Path cacheDir;
    private final String version, arch;

    /** With the cache under {@code $JMLC_CACHE} (default {@code ~/.cache/jmlc}). */
    Hiprtc(Hip hip, Target target, String hipVersion) {
        this(hip, target, hipVersion, System.getenv("JMLC_CACHE") != null ? Path.of(System.getenv("JMLC_CACHE")) : Path.of(System.getProperty("user.home"), ".cache", "jmlc"));
    }

    /** With the cache under {@code cacheRoot}: {@code kernels/<arch>/NAME-HASH.hsaco}. */
    Hiprtc(Hip hip, Target target, String hipVersion, Path cacheRoot) {
        if (!hip.rtcMissing.isEmpty()) throw new GpuException("cannot compile kernels for " + target + ": " + hip.rtcMissing);
        this.hip = hip;
        this.arch = target.arch();
        this.options = target.platform() == Platform.ROCM ? List.of("--offload-arch=" + arch, "-O3")
                : List.of("--gpu-architecture=" + arch, "-std=c++17"); // HIP on NVIDIA: hiprtc hands its options to NVRTC
        try (Arena a = Arena.ofConfined()) {
            MemorySegment major = a.allocate(ValueLayout.JAVA_INT), minor = a.allocate(ValueLayout.JAVA_INT);
            int st = hip.rtcVersion(major, minor);
            if (st != 0) throw new GpuException("hiprtcVersion failed: " + hip.rtcDescribe(st) + " (" + hip.rtcLibrary + ")");
            this.version = major.get(ValueLayout.JAVA_INT, 0) + "." + minor.get(ValueLayout.JAVA_INT, 0) + " (HIP " + hipVersion + ")";
        }
        this.cacheDir = cacheRoot.resolve("kernels").resolve(arch);
    }

    String version() {
        return version;
    }

    /** The code object of {@code source}, from the cache or freshly compiled. */
    byte[] compile(String kernelName, String source) {
        String key = hash(source + "\n" + String.join(" ", options) + "\nhiprtc " + version + " " + hip.rtcLibrary);
        Path cached = cacheDir.resolve(kernelName + "-" + key.substring(0, 16) + ".hsaco");
        try {
            if (Files.exists(cached)) return Files.readAllBytes(cached);
        } catch (IOException e) {
            // unreadable cache entry: compile again
        }
        byte[] code = compileNow(kernelName, source);
        try {
            Files.createDirectories(cacheDir);
            Path tmp = Files.createTempFile(cacheDir, kernelName, ".tmp");
            Files.write(tmp, code);
            Files.move(tmp, cached, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // a read-only home still runs, just without the cache
        }
        return code;
    }

    /** Where a kernel's cached code object would be (for tests). */
    Path cacheDir() {
        return cacheDir;
    }

    private byte[] compileNow(String kernelName, String source) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment prog = a.allocate(ValueLayout.ADDRESS);
            check(hip.rtcCreateProgram(prog, a.allocateFrom(source, StandardCharsets.UTF_8), a.allocateFrom(kernelName + ".hip")), "hiprtcCreateProgram(" + kernelName + ")");
            MemorySegment p = prog.get(ValueLayout.ADDRESS, 0);
            try {
                MemorySegment opts = a.allocate(ValueLayout.ADDRESS, options.size());
                for (int i = 0; i < options.size(); i++) opts.setAtIndex(ValueLayout.ADDRESS, i, a.allocateFrom(options.get(i)));
                int status = hip.rtcCompileProgram(p, options.size(), opts);
                if (status != 0)
                    throw new KernelCompileException(kernelName, "hiprtc " + version + " for " + arch + " (" + hip.rtcDescribe(status) + ")", log(a, p), source);
                MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
                check(hip.rtcGetCodeSize(p, size), "hiprtcGetCodeSize(" + kernelName + ")");
                long n = size.get(ValueLayout.JAVA_LONG, 0);
                if (n <= 0) throw new KernelCompileException(kernelName, "hiprtc " + version + " for " + arch, "an empty code object\n" + log(a, p), source);
                MemorySegment code = a.allocate(n);
                check(hip.rtcGetCode(p, code), "hiprtcGetCode(" + kernelName + ")");
                return code.toArray(ValueLayout.JAVA_BYTE);
            } finally {
                hip.rtcDestroyProgram(prog);
            }
        }
    }

    private String log(Arena a, MemorySegment prog) {
        MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
        if (hip.rtcGetProgramLogSize(prog, size) != 0) return "(no log)";
        long n = size.get(ValueLayout.JAVA_LONG, 0);
        if (n <= 1) return "(empty log)";
        MemorySegment log = a.allocate(n + 1);
        if (hip.rtcGetProgramLog(prog, log) != 0) return "(no log)";
        return Hip.cString(log, 0, (int) n);
    }

    private void check(int status, String call) {
        if (status != 0) throw new GpuException(call + " failed: " + hip.rtcDescribe(status) + " (" + hip.rtcLibrary + ")");
    }

    private static String hash(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
