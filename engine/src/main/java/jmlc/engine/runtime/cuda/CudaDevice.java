package jmlc.engine.runtime.cuda;

import jmlc.compiler.codegen.CudaEmitter;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.target.Target;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.GpuException;
import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.cudart.CUlaunchAttribute;
import org.bytedeco.cuda.cudart.CUlaunchConfig;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static jmlc.engine.runtime.cuda.Cuda.check;
import static org.bytedeco.cuda.global.cudart.*;

/**
 * One NVIDIA GPU through the CUDA driver API (bytedeco cuda): the device's primary context, one
 * non-blocking stream for every copy and launch, kernels compiled with {@link Nvrtc} and loaded as
 * modules, CUDA graphs for captured launch sequences, events for timing.
 */
public final class CudaDevice implements GpuDevice {
    private final int ordinal;
    private final DeviceInfo info;
    private final Target target;
    private final CUctx_st ctx = new CUctx_st();
    private final CUstream_st stream = new CUstream_st();
    private final Nvrtc nvrtc;
    private final List<CUmod_st> modules = new ArrayList<>();
    /** Launches asked for as dependents go as programmatic dependents (Hopper and later; RuntimeSettings.dependentLaunches). */
    private final boolean programmaticLaunch;

    /**
     * Opens GPU {@code ordinal}. Launches prepared as dependents ({@link #prepare(LoadedKernel, long[], boolean)})
     * go as programmatic dependents where the GPU has them (sm_90+). Benchmarks and sweeps drive devices
     * directly; models go through {@link CudaPlatform} and the generic GPU backend.
     */
    public static CudaDevice open(int ordinal) {
        return new CudaDevice(ordinal);
    }

    private CudaDevice(int ordinal) {
        this.ordinal = ordinal;
        check(cuInit(0), "cuInit");
        check(cuDevicePrimaryCtxRetain(ctx, ordinal), "cuDevicePrimaryCtxRetain(" + ordinal + ")");
        current();
        check(cuStreamCreate(stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        this.info = describe(ordinal);
        int cc = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, ordinal) * 10 + attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, ordinal);
        Target cuda = Target.cuda("sm_" + cc, attr(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, ordinal));
        // grid barriers need a cooperative launch, which a device may not offer (CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH)
        this.target = attr(CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH, ordinal) != 0 ? cuda
                : new Target(cuda.platform(), cuda.arch(), cuda.caps().withGridBarrier(false));
        this.nvrtc = new Nvrtc(target.arch());
        // the launches the runner asks for as dependents (a decode program where it triggers early, or as set:
        // RuntimeSettings.dependentLaunches); the GEMVs let the next kernel launch when their rows are done, or with
        // knob trigger once their last copies are issued (at their start it was 17% slower, H200)
        this.programmaticLaunch = target.caps().gridDependency();
    }

    /** What detection found: the GPUs the driver reports, or why there are none, in words a user can act on. */
    record Detection(List<DeviceInfo> devices, String unavailable) {}

    /** GPUs the driver reports; none (never an exception) where there is no driver or GPU, with the reason. */
    static Detection detect() {
        try {
            int status = cuInit(0);
            if (status != CUDA_SUCCESS)
                return new Detection(List.of(), switch (status) {
                    case CUDA_ERROR_NO_DEVICE -> "the NVIDIA driver is installed but finds no GPU (cuInit: CUDA_ERROR_NO_DEVICE)";
                    case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH, CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE ->
                            "the NVIDIA driver does not match the CUDA libraries jmlc uses (CUDA 13.1; " + Cuda.describe(status) + "): update the driver";
                    case CUDA_ERROR_STUB_LIBRARY -> "only the CUDA toolkit's stub libcuda.so was found, not the NVIDIA driver's (cuInit: CUDA_ERROR_STUB_LIBRARY)";
                    default -> "cuInit failed: " + Cuda.describe(status);
                });
            int[] n = new int[1];
            int count = cuDeviceGetCount(n);
            if (count != CUDA_SUCCESS || n[0] == 0)
                return new Detection(List.of(), count != CUDA_SUCCESS ? "cuDeviceGetCount failed: " + Cuda.describe(count) : "the NVIDIA driver reports no GPU");
            List<DeviceInfo> out = new ArrayList<>();
            for (int i = 0; i < n[0]; i++) out.add(describe(i));
            return new Detection(out, "");
        } catch (Throwable t) { // no libcuda: the JNI library fails to link
            return new Detection(List.of(), "no NVIDIA driver: its library libcuda.so.1 could not be loaded (" + firstLine(t) + ")");
        }
    }
    /** What the native loader said, short: the library it could not open, else the innermost message's first line. */
    private static String firstLine(Throwable t) {
        while (t.getCause() != null) t = t.getCause();
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().lines().findFirst().orElse("").strip();
        var missing = java.util.regex.Pattern.compile("([\\w.+-]+\\.so[.\\d]*: cannot open shared object file: [^)]*)").matcher(m);
        if (missing.find()) return missing.group(1);
        return m.length() > 160 ? m.substring(0, 157) + "..." : m;
    }

    private static int attr(int attribute, int dev) {
        int[] v = new int[1];
        check(cuDeviceGetAttribute(v, attribute, dev), "cuDeviceGetAttribute(" + attribute + ")");
        return v[0];
    }

    static DeviceInfo describe(int dev) {
        byte[] name = new byte[256];
        check(cuDeviceGetName(name, name.length, dev), "cuDeviceGetName");
        String n = new String(name, java.nio.charset.StandardCharsets.UTF_8).replace("\0", "").trim();
        long total;
        try (SizeTPointer t = new SizeTPointer(1)) {
            check(cuDeviceTotalMem(t, dev), "cuDeviceTotalMem");
            total = t.get();
        }
        Map<String, String> p = new LinkedHashMap<>();
        int major = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev), minor = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
        p.put("compute capability", major + "." + minor);
        p.put("multiprocessors", Integer.toString(attr(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev)));
        p.put("memory", String.format("%.1f GiB", total / (double) (1L << 30)));
        p.put("L2 cache", attr(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, dev) / (1 << 20) + " MiB");
        double memClockHz = attr(CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, dev) * 1e3, busBits = attr(CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, dev);
        p.put("peak memory bandwidth", String.format("%.0f GB/s", 2 * memClockHz * busBits / 8 / 1e9));
        p.put("max threads per block", Integer.toString(attr(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, dev)));
        int[] driver = new int[1];
        check(cuDriverGetVersion(driver), "cuDriverGetVersion");
        p.put("driver", "CUDA " + driver[0] / 1000 + "." + driver[0] % 1000 / 10); // the tuning database is per device and driver
        return new DeviceInfo("cuda:" + dev, "cuda", n, p);
    }

    private void current() {
        check(cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    @Override
    public Target target() {
        return target;
    }

    @Override
    public long freeBytes() {
        current();
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            check(cuMemGetInfo(free, total), "cuMemGetInfo");
            return free.get();
        }
    }

    @Override
    public long alloc(long bytes, String what) {
        current();
        long[] p = new long[1];
        int status = cuMemAlloc(p, Math.max(bytes, 16));
        if (status == CUDA_ERROR_OUT_OF_MEMORY)
            throw new GpuException(String.format("out of GPU memory on %s allocating %.1f MiB for %s: %.1f MiB free of %s",
                    info.id(), bytes / 1048576.0, what, freeBytes() / 1048576.0, info.properties().get("memory")));
        check(status, "cuMemAlloc(" + bytes + " bytes for " + what + ")");
        return p[0];
    }

    @Override
    public void free(long address) {
        current();
        cuMemFree(address);
    }

    /** Copies are synchronous with respect to the stream: queued work finishes first. */
    @Override
    public void upload(long dst, MemorySegment src, long bytes) {
        current();
        check(cuStreamSynchronize(stream), "cuStreamSynchronize");
        check(cuMemcpyHtoD(dst, Cuda.host(src.address(), bytes), bytes), "cuMemcpyHtoD(" + bytes + " bytes)");
    }

    @Override
    public void zero(long dst, long bytes) {
        current();
        check(cuMemsetD8Async(dst, (byte) 0, bytes, stream), "cuMemsetD8Async(" + bytes + " bytes)");
    }

    @Override
    public void copy(long dst, long src, long bytes) {
        current();
        check(cuMemcpyDtoDAsync(dst, src, bytes, stream), "cuMemcpyDtoDAsync(" + bytes + " bytes)");
    }

    @Override
    public void download(MemorySegment dst, long src, long bytes) {
        current();
        check(cuStreamSynchronize(stream), "cuStreamSynchronize (a kernel failed before this copy)");
        check(cuMemcpyDtoH(Cuda.host(dst.address(), bytes), src, bytes), "cuMemcpyDtoH(" + bytes + " bytes)");
    }

    /** {@code dynamicShared}: bytes of dynamic shared memory every launch passes (a kernel's arrays above 48 KiB, {@link CudaEmitter#dynamicSharedBytes}). */
    private record Loaded(Kernel kernel, CUfunc_st function, Map<String, String> statistics, int blocksPerMultiprocessor, int multiprocessors,
                          int dynamicShared) implements LoadedKernel {}

    /** What the driver says of a loaded kernel: registers a thread, spill and stack bytes, static shared memory, and the blocks an SM holds. */
    private static Map<String, String> statistics(Kernel kernel, CUfunc_st fn, int blocksPerSm, int dynamicShared) {
        int[] v = new int[1];
        Map<String, String> out = new LinkedHashMap<>();
        check(cuFuncGetAttribute(v, CU_FUNC_ATTRIBUTE_NUM_REGS, fn), "cuFuncGetAttribute(" + kernel.name() + ")");
        out.put("registers", Integer.toString(v[0]));
        check(cuFuncGetAttribute(v, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, fn), "cuFuncGetAttribute(" + kernel.name() + ")");
        out.put("local bytes", Integer.toString(v[0]));
        check(cuFuncGetAttribute(v, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, fn), "cuFuncGetAttribute(" + kernel.name() + ")");
        out.put("shared bytes", Integer.toString(v[0] + dynamicShared));
        out.put("blocks an SM", Integer.toString(blocksPerSm));
        return out;
    }

    @Override
    public LoadedKernel load(Kernel kernel, String source) {
        byte[] cubin = nvrtc.compile(kernel.name(), source);
        current();
        CUmod_st module = new CUmod_st();
        try (BytePointer image = new BytePointer(cubin)) {
            check(cuModuleLoadData(module, image), "cuModuleLoadData(" + kernel.name() + ")");
        }
        synchronized (modules) {
            modules.add(module);
        }
        CUfunc_st fn = new CUfunc_st();
        check(cuModuleGetFunction(fn, module, kernel.name()), "cuModuleGetFunction(" + kernel.name() + ")");
        int dynamicShared = CudaEmitter.dynamicSharedBytes(kernel);
        if (dynamicShared > 0) // above 48 KiB a block: opted in, then passed at every launch
            check(cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, dynamicShared),
                    "cuFuncSetAttribute(" + kernel.name() + ", MAX_DYNAMIC_SHARED_SIZE_BYTES, " + dynamicShared + ")");
        int[] perSm = new int[1];
        int[] b = kernel.block();
        int occupancy = cuOccupancyMaxActiveBlocksPerMultiprocessor(perSm, fn, b[0] * b[1] * b[2], dynamicShared);
        // a kernel launched in clusters is resident a cluster at a time: where the driver will not count it in blocks,
        // its statistics say 0 (unknown); only persistent kernels, never clustered, size their grids by it
        if (occupancy != CUDA_SUCCESS && kernel.clusterBarriers()) perSm[0] = 0;
        else check(occupancy, "cuOccupancyMaxActiveBlocksPerMultiprocessor(" + kernel.name() + ")");
        return new Loaded(kernel, fn, statistics(kernel, fn, perSm[0], dynamicShared), perSm[0], target.caps().multiprocessors(), dynamicShared);
    }

    /**
     * Kernel parameters bound once: one 8-byte cell per buffer, one 4-byte cell per scalar, and the
     * pointer array; on sm_90+ also the launch configuration that makes the launch a programmatic
     * dependent of the previous one (it may start while that one drains; generated kernels wait
     * for it with griddepcontrol.wait before reading its results).
     */
    private final class CudaLaunch implements Launch {
        private final Loaded kernel;
        private final PointerPointer<Pointer> params;
        private final List<Pointer> cells = new ArrayList<>();
        private final IntPointer[] scalarCells;
        private final CUlaunchConfig config;
        private final CUlaunchAttribute attr;

        CudaLaunch(Loaded kernel, long[] buffers, boolean dependent) {
            this.kernel = kernel;
            if (kernel.kernel().gridBarriers()) {
                // every block resident at once, or the launch fails (LaunchGrid sizes the grid so it fits);
                // never a programmatic dependent: the previous kernel's blocks would hold the SMs its blocks need
                attr = new CUlaunchAttribute();
                attr.id(CU_LAUNCH_ATTRIBUTE_COOPERATIVE);
                attr.value().cooperative(1);
                int[] b = kernel.kernel().block();
                config = new CUlaunchConfig().blockDimX(b[0]).blockDimY(b[1]).blockDimZ(b[2]).sharedMemBytes(kernel.dynamicShared()).hStream(stream).attrs(attr).numAttrs(1);
            } else if (programmaticLaunch && dependent) {
                attr = new CUlaunchAttribute();
                attr.id(CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION);
                attr.value().programmaticStreamSerializationAllowed(1);
                int[] b = kernel.kernel().block();
                config = new CUlaunchConfig().blockDimX(b[0]).blockDimY(b[1]).blockDimZ(b[2]).sharedMemBytes(kernel.dynamicShared()).hStream(stream).attrs(attr).numAttrs(1);
            } else {
                attr = null;
                config = null;
            }
            int nb = buffers.length, ns = kernel.kernel().scalars().size();
            if (nb != kernel.kernel().buffers().size())
                throw new IllegalArgumentException("kernel " + kernel.kernel().name() + " takes " + kernel.kernel().buffers().size() + " buffers, got " + nb);
            params = new PointerPointer<>(nb + ns);
            for (int i = 0; i < nb; i++) {
                LongPointer lp = new LongPointer(1).put(buffers[i]);
                cells.add(lp);
                params.put(i, lp);
            }
            scalarCells = new IntPointer[ns];
            for (int i = 0; i < ns; i++) {
                scalarCells[i] = new IntPointer(1);
                cells.add(scalarCells[i]);
                params.put(nb + i, scalarCells[i]);
            }
        }

        @Override
        public LoadedKernel kernel() {
            return kernel;
        }

        @Override
        public void launch(int[] grid, int[] scalars) {
            for (int i = 0; i < scalarCells.length; i++) scalarCells[i].put(scalars[i]);
            if (config != null) {
                config.gridDimX(grid[0]).gridDimY(grid[1]).gridDimZ(grid[2]);
                check(cuLaunchKernelEx(config, kernel.function(), params, null), "cuLaunchKernelEx(" + kernel.kernel().name() + ")");
                return;
            }
            int[] b = kernel.kernel().block();
            check(cuLaunchKernel(kernel.function(), grid[0], grid[1], grid[2], b[0], b[1], b[2], kernel.dynamicShared(), stream, params, null),
                    "cuLaunchKernel(" + kernel.kernel().name() + ")");
        }

        @Override
        public void close() {
            cells.forEach(Pointer::close);
            params.close();
            if (config != null) {
                config.close();
                attr.close();
            }
        }
    }

    @Override
    public Launch prepare(LoadedKernel k, long[] buffers) {
        return new CudaLaunch((Loaded) k, buffers, false);
    }

    @Override
    public Launch prepare(LoadedKernel k, long[] buffers, boolean dependent) {
        return new CudaLaunch((Loaded) k, buffers, dependent);
    }

    @Override
    public MemorySegment pinned(long bytes) {
        current();
        try (PointerPointer<Pointer> p = new PointerPointer<>(1)) {
            check(cuMemAllocHost(p, bytes), "cuMemAllocHost(" + bytes + " bytes)");
            long address = p.get(0).address();
            synchronized (pinnedBlocks) {
                pinnedBlocks.add(address);
            }
            return MemorySegment.ofAddress(address).reinterpret(bytes);
        }
    }

    private final List<Long> pinnedBlocks = new ArrayList<>();

    @Override
    public void uploadAsync(long dst, MemorySegment src, long bytes) {
        check(cuMemcpyHtoDAsync(dst, Cuda.host(src.address(), bytes), bytes, stream), "cuMemcpyHtoDAsync(" + bytes + " bytes)");
    }

    @Override
    public void downloadAsync(MemorySegment dst, long src, long bytes) {
        check(cuMemcpyDtoHAsync(Cuda.host(dst.address(), bytes), src, bytes, stream), "cuMemcpyDtoHAsync(" + bytes + " bytes)");
    }

    @Override
    public void synchronize() {
        current();
        check(cuStreamSynchronize(stream), "cuStreamSynchronize (a kernel failed)");
    }

    @Override
    public Captured capture(Runnable body) {
        current();
        check(cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture");
        CUgraph_st graph = new CUgraph_st();
        try {
            body.run();
        } finally {
            check(cuStreamEndCapture(stream, graph), "cuStreamEndCapture");
        }
        CUgraphExec_st exec = new CUgraphExec_st();
        check(cuGraphInstantiate(exec, graph, 0), "cuGraphInstantiate");
        return new Captured() {
            @Override
            public void replay() {
                current();
                check(cuGraphLaunch(exec, stream), "cuGraphLaunch");
            }

            @Override
            public void close() {
                cuGraphExecDestroy(exec);
                cuGraphDestroy(graph);
            }
        };
    }

    @Override
    public Event event() {
        current();
        CUevent_st ev = new CUevent_st();
        check(cuEventCreate(ev, CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        return new Event() {
            @Override
            public void record() {
                check(cuEventRecord(ev, stream), "cuEventRecord");
            }

            @Override
            public void synchronize() {
                check(cuEventSynchronize(ev), "cuEventSynchronize (a kernel failed)");
            }

            @Override
            public void close() {
                cuEventDestroy(ev);
            }
        };
    }

    @Override
    public float time(Runnable body) {
        current();
        CUevent_st start = new CUevent_st(), stop = new CUevent_st();
        check(cuEventCreate(start, CU_EVENT_DEFAULT), "cuEventCreate");
        check(cuEventCreate(stop, CU_EVENT_DEFAULT), "cuEventCreate");
        try {
            check(cuEventRecord(start, stream), "cuEventRecord");
            body.run();
            check(cuEventRecord(stop, stream), "cuEventRecord");
            check(cuEventSynchronize(stop), "cuEventSynchronize (a kernel failed)");
            float[] ms = new float[1];
            check(cuEventElapsedTime(ms, start, stop), "cuEventElapsedTime");
            return ms[0];
        } finally {
            cuEventDestroy(start);
            cuEventDestroy(stop);
        }
    }

    @Override
    public void close() {
        current();
        cuStreamSynchronize(stream);
        for (CUmod_st m : modules) cuModuleUnload(m);
        modules.clear();
        for (long a : pinnedBlocks) cuMemFreeHost(Cuda.host(a, 0));
        pinnedBlocks.clear();
        cuStreamDestroy(stream);
        cuDevicePrimaryCtxRelease(ordinal);
    }

    @Override
    public String toString() {
        return info.toString();
    }
}
