package jmlc.engine.runtime.rocm;

import jmlc.engine.runtime.gpu.GpuException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The HIP runtime and hiprtc through Java's foreign function API: the calls jmlc makes, each bound
 * as declared in ROCm's {@code hip/hip_runtime_api.h} and {@code hip/hiprtc.h}. Written from the
 * headers of ROCm 5.2 (Debian 12's libamdhip64-dev 5.2.3) and checked against ROCm 6.3's (HIP
 * 6.3.0): every call here has the same C signature in both. Handles ({@code hipStream_t},
 * {@code hipModule_t}, {@code hipFunction_t}, {@code hipEvent_t}, {@code hipGraph_t},
 * {@code hipGraphExec_t}, {@code hiprtcProgram}) are opaque pointers, device pointers plain
 * addresses, {@code size_t} 64 bits, {@code hipError_t} and enums {@code int}; out-parameters are
 * segments the caller allocates. Status codes are returned as they are; {@link #check} turns a
 * failure into an exception naming the call and the status ({@code hipGetErrorName}).
 *
 * <p>Where the libraries are: {@code JMLC_HIP_LIBRARY} names the HIP runtime (a path or a name for
 * dlopen; jmlc's HIP-on-CUDA test library, say), else {@code libamdhip64.so} (.7, .6, .5) on the
 * loader's path, in {@code $ROCM_PATH/lib} or {@code /opt/rocm/lib}. hiprtc is {@code JMLC_HIPRTC_LIBRARY},
 * else inside the HIP runtime (ROCm 5), else {@code libhiprtc.so} (.7, .6) beside it.
 */
final class Hip {
    /** {@code hipSuccess}, {@code hipErrorNoDevice}, {@code hipErrorNotReady}. */
    static final int SUCCESS = 0, ERROR_NO_DEVICE = 100;
    /** {@code hipMemcpyKind}. */
    static final int HOST_TO_DEVICE = 1, DEVICE_TO_HOST = 2, DEVICE_TO_DEVICE = 3;
    /** {@code hipStreamNonBlocking}, {@code hipEventDefault}, {@code hipEventDisableTiming}, {@code hipStreamCaptureModeThreadLocal}, {@code hipHostMallocDefault}. */
    static final int STREAM_NON_BLOCKING = 1, EVENT_DEFAULT = 0, EVENT_DISABLE_TIMING = 2, CAPTURE_THREAD_LOCAL = 1, HOST_MALLOC_DEFAULT = 0;

    /**
     * Where {@code hipDeviceProp_t} keeps the fields jmlc reads, in bytes on x86-64: the struct of
     * ROCm 5 ({@code hipGetDeviceProperties}, 792 bytes) and ROCm 6's {@code hipDeviceProp_tR0600}
     * ({@code hipGetDevicePropertiesR0600}, 1472 bytes), offsets from {@code offsetof} on each header.
     */
    record PropLayout(String function, int size, int totalGlobalMem, int sharedMemPerBlock, int warpSize, int maxThreadsPerBlock,
                      int clockRate, int multiProcessorCount, int memoryClockRate, int memoryBusWidth, int l2CacheSize, int gcnArchName) {
        static final PropLayout R0600 = new PropLayout("hipGetDevicePropertiesR0600", 1472, 288, 296, 308, 320, 348, 388, 608, 612, 616, 1160);
        static final PropLayout R0000 = new PropLayout("hipGetDeviceProperties", 792, 256, 264, 276, 280, 308, 336, 312, 316, 340, 396);
    }

    /** Why the HIP runtime could not be used here: no library, or one without the calls jmlc needs. */
    static final class Unavailable extends Exception {
        Unavailable(String why) {
            super(why);
        }
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final FunctionDescriptor I_P = FunctionDescriptor.of(JAVA_INT, ADDRESS), I_I = FunctionDescriptor.of(JAVA_INT, JAVA_INT),
            I_PP = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), I_PI = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
            P_I = FunctionDescriptor.of(ADDRESS, JAVA_INT), I_PL = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG);

    /** The HIP library and hiprtc's, as loaded (a path or a dlopen name). */
    final String library, rtcLibrary;
    /** Why hiprtc is unusable, or empty: kernels cannot be compiled then, devices can still be listed. */
    final String rtcMissing;
    final PropLayout props;

    private final MethodHandle runtimeGetVersion, getDeviceCount, setDevice, deviceGetName, deviceTotalMem, getDeviceProperties,
            getErrorName, getErrorString, memGetInfo, malloc, free, hostMalloc, hostFree, memcpyAsync, memsetAsync,
            streamCreateWithFlags, streamSynchronize, streamDestroy, moduleLoadData, moduleGetFunction, moduleUnload, moduleLaunchKernel,
            streamBeginCapture, streamEndCapture, graphInstantiate, graphLaunch, graphExecDestroy, graphDestroy,
            eventCreateWithFlags, eventRecord, eventSynchronize, eventElapsedTime, eventDestroy;
    private final MethodHandle rtcVersion, rtcCreateProgram, rtcCompileProgram, rtcGetProgramLogSize, rtcGetProgramLog, rtcGetCodeSize,
            rtcGetCode, rtcDestroyProgram, rtcGetErrorString;

    /** Loads the HIP runtime and hiprtc named by {@code env} or found in the usual places. */
    static Hip load(Map<String, String> env) throws Unavailable {
        List<String> tried = new ArrayList<>();
        String named = env.get("JMLC_HIP_LIBRARY");
        List<String> candidates = named != null && !named.isBlank() ? List.of(named.trim()) : defaults(env, "libamdhip64.so", "7", "6", "5");
        for (String c : candidates) {
            Optional<SymbolLookup> lib = open(c, tried);
            if (lib.isPresent()) return new Hip(c, lib.get(), env);
        }
        throw new Unavailable(named != null && !named.isBlank() ? "JMLC_HIP_LIBRARY=" + named + " could not be loaded: " + String.join("; ", tried)
                : "no HIP runtime here (ROCm not installed: libamdhip64.so not found; tried " + String.join(", ", candidates) + ")");
    }

    private static List<String> defaults(Map<String, String> env, String base, String... versions) {
        List<String> c = new ArrayList<>(List.of(base));
        for (String v : versions) c.add(base + "." + v);
        for (String dir : new String[] {env.get("ROCM_PATH") == null ? null : env.get("ROCM_PATH") + "/lib", "/opt/rocm/lib"})
            if (dir != null) c.add(dir + "/" + base);
        return c;
    }

    private static Optional<SymbolLookup> open(String nameOrPath, List<String> tried) {
        try {
            if (nameOrPath.contains("/") && !Files.exists(Path.of(nameOrPath))) {
                tried.add(nameOrPath + ": no such file");
                return Optional.empty();
            }
            return Optional.of(SymbolLookup.libraryLookup(nameOrPath, Arena.global()));
        } catch (IllegalArgumentException | IllegalCallerException e) {
            tried.add(nameOrPath + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    private Hip(String library, SymbolLookup lib, Map<String, String> env) throws Unavailable {
        this.library = library;
        Binder b = new Binder(lib, library);
        runtimeGetVersion = b.bind("hipRuntimeGetVersion", I_P);                                   // (int* runtimeVersion)
        getDeviceCount = b.bind("hipGetDeviceCount", I_P);                                         // (int* count)
        setDevice = b.bind("hipSetDevice", I_I);                                                   // (int deviceId)
        deviceGetName = b.bind("hipDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT)); // (char* name, int len, hipDevice_t)
        deviceTotalMem = b.bind("hipDeviceTotalMem", I_PI);                                        // (size_t* bytes, hipDevice_t)
        props = lib.find(PropLayout.R0600.function()).isPresent() ? PropLayout.R0600 : PropLayout.R0000;
        getDeviceProperties = b.bind(props.function(), I_PI);                                      // (hipDeviceProp_t* prop, int deviceId)
        getErrorName = b.bind("hipGetErrorName", P_I);                                             // const char* (hipError_t)
        getErrorString = b.bind("hipGetErrorString", P_I);                                         // const char* (hipError_t)
        memGetInfo = b.bind("hipMemGetInfo", I_PP);                                                // (size_t* free, size_t* total)
        malloc = b.bind("hipMalloc", I_PL);                                                        // (void** ptr, size_t size)
        free = b.bind("hipFree", I_P);                                                             // (void* ptr)
        hostMalloc = b.bind("hipHostMalloc", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT)); // (void** ptr, size_t, unsigned flags)
        hostFree = b.bind("hipHostFree", I_P);                                                     // (void* ptr)
        memcpyAsync = b.bind("hipMemcpyAsync", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS)); // (dst, src, size_t, hipMemcpyKind, hipStream_t)
        memsetAsync = b.bind("hipMemsetAsync", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS)); // (void* dst, int value, size_t, hipStream_t)
        streamCreateWithFlags = b.bind("hipStreamCreateWithFlags", I_PI);                          // (hipStream_t*, unsigned flags)
        streamSynchronize = b.bind("hipStreamSynchronize", I_P);                                   // (hipStream_t)
        streamDestroy = b.bind("hipStreamDestroy", I_P);                                           // (hipStream_t)
        moduleLoadData = b.bind("hipModuleLoadData", I_PP);                                        // (hipModule_t*, const void* image)
        moduleGetFunction = b.bind("hipModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS)); // (hipFunction_t*, hipModule_t, const char*)
        moduleUnload = b.bind("hipModuleUnload", I_P);                                             // (hipModule_t)
        moduleLaunchKernel = b.bind("hipModuleLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS)); // (f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, stream, void** params, void** extra)
        streamBeginCapture = b.bind("hipStreamBeginCapture", I_PI);                                // (hipStream_t, hipStreamCaptureMode)
        streamEndCapture = b.bind("hipStreamEndCapture", I_PP);                                    // (hipStream_t, hipGraph_t*)
        graphInstantiate = b.bind("hipGraphInstantiate", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG)); // (hipGraphExec_t*, hipGraph_t, hipGraphNode_t* errorNode, char* log, size_t)
        graphLaunch = b.bind("hipGraphLaunch", I_PP);                                              // (hipGraphExec_t, hipStream_t)
        graphExecDestroy = b.bind("hipGraphExecDestroy", I_P);                                     // (hipGraphExec_t)
        graphDestroy = b.bind("hipGraphDestroy", I_P);                                             // (hipGraph_t)
        eventCreateWithFlags = b.bind("hipEventCreateWithFlags", I_PI);                            // (hipEvent_t*, unsigned flags)
        eventRecord = b.bind("hipEventRecord", I_PP);                                              // (hipEvent_t, hipStream_t)
        eventSynchronize = b.bind("hipEventSynchronize", I_P);                                     // (hipEvent_t)
        eventElapsedTime = b.bind("hipEventElapsedTime", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS)); // (float* ms, hipEvent_t start, hipEvent_t stop)
        eventDestroy = b.bind("hipEventDestroy", I_P);                                             // (hipEvent_t)
        if (!b.missing.isEmpty()) throw new Unavailable(library + " lacks " + String.join(", ", b.missing) + " (a HIP runtime older than ROCm 5.2?)");

        // hiprtc: named, else in the HIP runtime (ROCm 5, the HIP-on-CUDA library), else libhiprtc beside it
        String rtcNamed = env.get("JMLC_HIPRTC_LIBRARY");
        List<String> tried = new ArrayList<>();
        SymbolLookup rtc = null;
        String rtcName = null;
        if (rtcNamed != null && !rtcNamed.isBlank()) {
            rtc = open(rtcNamed.trim(), tried).orElse(null);
            rtcName = rtcNamed.trim();
        } else if (lib.find("hiprtcCreateProgram").isPresent()) {
            rtc = lib;
            rtcName = library;
        } else {
            List<String> names = defaults(env, "libhiprtc.so", "7", "6");
            if (library.contains("/")) names.addFirst(Path.of(library).resolveSibling("libhiprtc.so").toString());
            for (String n : names) {
                Optional<SymbolLookup> l = open(n, tried);
                if (l.isPresent()) {
                    rtc = l.get();
                    rtcName = n;
                    break;
                }
            }
        }
        Binder r = new Binder(rtc == null ? SymbolLookup.loaderLookup() : rtc, rtcName);
        rtcVersion = r.bind("hiprtcVersion", I_PP);                                                 // (int* major, int* minor)
        rtcCreateProgram = r.bind("hiprtcCreateProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS)); // (prog*, src, name, numHeaders, headers, includeNames)
        rtcCompileProgram = r.bind("hiprtcCompileProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS)); // (prog, numOptions, const char** options)
        rtcGetProgramLogSize = r.bind("hiprtcGetProgramLogSize", I_PP);                            // (prog, size_t*)
        rtcGetProgramLog = r.bind("hiprtcGetProgramLog", I_PP);                                    // (prog, char*)
        rtcGetCodeSize = r.bind("hiprtcGetCodeSize", I_PP);                                        // (prog, size_t*)
        rtcGetCode = r.bind("hiprtcGetCode", I_PP);                                                // (prog, char*)
        rtcDestroyProgram = r.bind("hiprtcDestroyProgram", I_P);                                   // (hiprtcProgram*)
        rtcGetErrorString = r.bind("hiprtcGetErrorString", P_I);                                   // const char* (hiprtcResult)
        this.rtcLibrary = rtcName;
        this.rtcMissing = rtc == null ? "no hiprtc found (tried " + String.join("; ", tried) + ")"
                : r.missing.isEmpty() ? "" : rtcName + " lacks " + String.join(", ", r.missing);
    }

    /** Downcall handles for the symbols a library has; the names it lacks are collected. */
    private static final class Binder {
        final SymbolLookup lib;
        final String name;
        final List<String> missing = new ArrayList<>();

        Binder(SymbolLookup lib, String name) {
            this.lib = lib;
            this.name = name;
        }

        MethodHandle bind(String symbol, FunctionDescriptor d) {
            Optional<MemorySegment> s = lib.find(symbol);
            if (s.isEmpty()) {
                missing.add(symbol);
                return null;
            }
            return LINKER.downcallHandle(s.get(), d);
        }
    }

    // ---- status ----

    /** Throws a {@link GpuException} naming {@code call} and the status when {@code status} is not hipSuccess. */
    void check(int status, String call) {
        if (status != SUCCESS) throw new GpuException(call + " failed: " + describe(status));
    }

    /** {@code hipErrorNoDevice (100): no ROCm-capable device is detected}. */
    String describe(int status) {
        String name = string(call(() -> (MemorySegment) getErrorName.invokeExact(status)));
        String text = string(call(() -> (MemorySegment) getErrorString.invokeExact(status)));
        return (name.isEmpty() ? "HIP error" : name) + " (" + status + ")" + (text.isEmpty() || text.equals(name) ? "" : ": " + text);
    }

    String rtcDescribe(int status) {
        return rtcGetErrorString == null ? "hiprtc error " + status : string(call(() -> (MemorySegment) rtcGetErrorString.invokeExact(status))) + " (" + status + ")";
    }

    private static String string(MemorySegment s) {
        return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(4096).getString(0);
    }

    private interface Call<T> {
        T run() throws Throwable;
    }

    private static <T> T call(Call<T> c) {
        try {
            return c.run();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    // ---- the calls, typed as the headers declare them ----

    int runtimeGetVersion(MemorySegment v) { return call(() -> (int) runtimeGetVersion.invokeExact(v)); }
    int getDeviceCount(MemorySegment n) { return call(() -> (int) getDeviceCount.invokeExact(n)); }
    int setDevice(int d) { return call(() -> (int) setDevice.invokeExact(d)); }
    int deviceGetName(MemorySegment name, int len, int d) { return call(() -> (int) deviceGetName.invokeExact(name, len, d)); }
    int deviceTotalMem(MemorySegment bytes, int d) { return call(() -> (int) deviceTotalMem.invokeExact(bytes, d)); }
    int getDeviceProperties(MemorySegment prop, int d) { return call(() -> (int) getDeviceProperties.invokeExact(prop, d)); }
    int memGetInfo(MemorySegment free, MemorySegment total) { return call(() -> (int) memGetInfo.invokeExact(free, total)); }
    int malloc(MemorySegment ptr, long size) { return call(() -> (int) malloc.invokeExact(ptr, size)); }
    int free(MemorySegment ptr) { return call(() -> (int) free.invokeExact(ptr)); }
    int hostMalloc(MemorySegment ptr, long size, int flags) { return call(() -> (int) hostMalloc.invokeExact(ptr, size, flags)); }
    int hostFree(MemorySegment ptr) { return call(() -> (int) hostFree.invokeExact(ptr)); }
    int memcpyAsync(MemorySegment dst, MemorySegment src, long size, int kind, MemorySegment stream) { return call(() -> (int) memcpyAsync.invokeExact(dst, src, size, kind, stream)); }
    int memsetAsync(MemorySegment dst, int value, long size, MemorySegment stream) { return call(() -> (int) memsetAsync.invokeExact(dst, value, size, stream)); }
    int streamCreateWithFlags(MemorySegment stream, int flags) { return call(() -> (int) streamCreateWithFlags.invokeExact(stream, flags)); }
    int streamSynchronize(MemorySegment stream) { return call(() -> (int) streamSynchronize.invokeExact(stream)); }
    int streamDestroy(MemorySegment stream) { return call(() -> (int) streamDestroy.invokeExact(stream)); }
    int moduleLoadData(MemorySegment module, MemorySegment image) { return call(() -> (int) moduleLoadData.invokeExact(module, image)); }
    int moduleGetFunction(MemorySegment fn, MemorySegment module, MemorySegment name) { return call(() -> (int) moduleGetFunction.invokeExact(fn, module, name)); }
    int moduleUnload(MemorySegment module) { return call(() -> (int) moduleUnload.invokeExact(module)); }
    int moduleLaunchKernel(MemorySegment f, int gx, int gy, int gz, int bx, int by, int bz, int shared, MemorySegment stream, MemorySegment params) {
        return call(() -> (int) moduleLaunchKernel.invokeExact(f, gx, gy, gz, bx, by, bz, shared, stream, params, MemorySegment.NULL));
    }
    int streamBeginCapture(MemorySegment stream, int mode) { return call(() -> (int) streamBeginCapture.invokeExact(stream, mode)); }
    int streamEndCapture(MemorySegment stream, MemorySegment graph) { return call(() -> (int) streamEndCapture.invokeExact(stream, graph)); }
    int graphInstantiate(MemorySegment exec, MemorySegment graph) {
        return call(() -> (int) graphInstantiate.invokeExact(exec, graph, MemorySegment.NULL, MemorySegment.NULL, 0L));
    }
    int graphLaunch(MemorySegment exec, MemorySegment stream) { return call(() -> (int) graphLaunch.invokeExact(exec, stream)); }
    int graphExecDestroy(MemorySegment exec) { return call(() -> (int) graphExecDestroy.invokeExact(exec)); }
    int graphDestroy(MemorySegment graph) { return call(() -> (int) graphDestroy.invokeExact(graph)); }
    int eventCreateWithFlags(MemorySegment ev, int flags) { return call(() -> (int) eventCreateWithFlags.invokeExact(ev, flags)); }
    int eventRecord(MemorySegment ev, MemorySegment stream) { return call(() -> (int) eventRecord.invokeExact(ev, stream)); }
    int eventSynchronize(MemorySegment ev) { return call(() -> (int) eventSynchronize.invokeExact(ev)); }
    int eventElapsedTime(MemorySegment ms, MemorySegment start, MemorySegment stop) { return call(() -> (int) eventElapsedTime.invokeExact(ms, start, stop)); }
    int eventDestroy(MemorySegment ev) { return call(() -> (int) eventDestroy.invokeExact(ev)); }

    int rtcVersion(MemorySegment major, MemorySegment minor) { return call(() -> (int) rtcVersion.invokeExact(major, minor)); }
    int rtcCreateProgram(MemorySegment prog, MemorySegment src, MemorySegment name) {
        return call(() -> (int) rtcCreateProgram.invokeExact(prog, src, name, 0, MemorySegment.NULL, MemorySegment.NULL));
    }
    int rtcCompileProgram(MemorySegment prog, int n, MemorySegment options) { return call(() -> (int) rtcCompileProgram.invokeExact(prog, n, options)); }
    int rtcGetProgramLogSize(MemorySegment prog, MemorySegment size) { return call(() -> (int) rtcGetProgramLogSize.invokeExact(prog, size)); }
    int rtcGetProgramLog(MemorySegment prog, MemorySegment log) { return call(() -> (int) rtcGetProgramLog.invokeExact(prog, log)); }
    int rtcGetCodeSize(MemorySegment prog, MemorySegment size) { return call(() -> (int) rtcGetCodeSize.invokeExact(prog, size)); }
    int rtcGetCode(MemorySegment prog, MemorySegment code) { return call(() -> (int) rtcGetCode.invokeExact(prog, code)); }
    int rtcDestroyProgram(MemorySegment prog) { return call(() -> (int) rtcDestroyProgram.invokeExact(prog)); }

    /** {@code HIP_VERSION} as {@code major.minor.patch}: major·10⁷ + minor·10⁵ + patch. */
    static String version(int v) {
        return v / 10_000_000 + "." + v / 100_000 % 100 + "." + v % 100_000;
    }

    /** Reads a C string field of at most {@code max} bytes at {@code offset}. */
    static String cString(MemorySegment s, long offset, int max) {
        byte[] b = s.asSlice(offset, max).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, java.nio.charset.StandardCharsets.UTF_8).trim();
    }
}
