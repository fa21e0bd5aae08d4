package jmlc.engine.runtime.rocm;

import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.target.Target;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.GpuException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One GPU through the HIP runtime ({@link Hip}): one non-blocking stream for every copy and launch,
 * kernels compiled with {@link Hiprtc} and loaded as modules, hipGraphs for captured launch
 * sequences, events for timing. The device is made current ({@code hipSetDevice}) on the calling
 * thread before each call, as kernels load on several threads. An AMD GPU's target is its
 * {@code gcnArchName} ({@code gfx1100}); under HIP on NVIDIA (the name is {@code sm_NN}, as jmlc's
 * HIP-on-CUDA test library reports) the target is CUDA's and the kernels CUDA C, as AMD's HIP on
 * NVIDIA compiles them.
 */
final class RocmDevice implements GpuDevice {
    private final Hip hip;
    private final int ordinal;
    private final DeviceInfo info;
    private final Target target;
    private final MemorySegment stream;
    private final Hiprtc rtc;
    private final Arena arena = Arena.ofShared();
    private final List<MemorySegment> modules = new ArrayList<>(), pinnedBlocks = new ArrayList<>();

    /** What {@code hipDeviceProp_t} and the runtime say about a device. */
    record Description(DeviceInfo info, Target target) {}

    RocmDevice(Hip hip, int ordinal, String hipVersion) {
        this.hip = hip;
        this.ordinal = ordinal;
        Description d = describe(hip, ordinal, hipVersion);
        this.info = d.info();
        this.target = d.target();
        current();
        MemorySegment s = arena.allocate(ADDRESS);
        hip.check(hip.streamCreateWithFlags(s, Hip.STREAM_NON_BLOCKING), "hipStreamCreateWithFlags");
        this.stream = s.get(ADDRESS, 0);
        this.rtc = new Hiprtc(hip, target, hipVersion);
    }

    /** The device's name, properties and target, read with {@code hipGetDeviceProperties} (R0600 on ROCm 6). */
    static Description describe(Hip hip, int dev, String hipVersion) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(4096, 16); // larger than either layout of hipDeviceProp_t
            hip.check(hip.getDeviceProperties(p, dev), hip.props.function() + "(" + dev + ")");
            Hip.PropLayout l = hip.props;
            String name = Hip.cString(p, 0, 256), gcn = Hip.cString(p, l.gcnArchName(), 256);
            int cus = p.get(JAVA_INT, l.multiProcessorCount()), wave = p.get(JAVA_INT, l.warpSize());
            long total = p.get(JAVA_LONG, l.totalGlobalMem()), lds = p.get(JAVA_LONG, l.sharedMemPerBlock());
            Target t;
            if (gcn.matches("sm_\\d+a?")) { // HIP on NVIDIA: CUDA's kernels, but no cooperative launch here, so no grid barriers,
                Target cuda = Target.cuda(gcn, cus); // and launches with no dynamic shared memory, so 48 KiB a block
                t = new Target(cuda.platform(), cuda.arch(), cuda.caps().withGridBarrier(false).withoutOptInShared().withClusters(false));
            }
            else if (gcn.startsWith("gfx")) t = Target.rocm(gcn, cus);
            else throw new GpuException("rocm:" + dev + " (" + name + ") reports gcnArchName '" + gcn + "', not an AMD architecture (gfx...): "
                    + "hipDeviceProp_t read with the " + l.function() + " layout of HIP " + hipVersion + " from " + hip.library);
            if (wave != t.warpSize())
                throw new GpuException("rocm:" + dev + " (" + name + ", " + gcn + ") runs " + wave + "-lane wavefronts; jmlc compiles " + t + " for " + t.warpSize());
            Map<String, String> props = new LinkedHashMap<>();
            props.put("architecture", gcn + (t.platform() == jmlc.compiler.target.Platform.CUDA ? " (HIP on NVIDIA: CUDA C kernels)" : ""));
            props.put("wavefront", Integer.toString(wave));
            props.put("compute units", Integer.toString(cus));
            props.put("memory", String.format(Locale.ROOT, "%.1f GiB", total / (double) (1L << 30)));
            props.put("LDS per block", lds / 1024 + " KiB");
            props.put("L2 cache", p.get(JAVA_INT, l.l2CacheSize()) / (1 << 20) + " MiB");
            double memClockHz = p.get(JAVA_INT, l.memoryClockRate()) * 1e3, busBits = p.get(JAVA_INT, l.memoryBusWidth());
            if (memClockHz > 0 && busBits > 0) props.put("peak memory bandwidth", String.format(Locale.ROOT, "%.0f GB/s", 2 * memClockHz * busBits / 8 / 1e9));
            props.put("max threads per block", Integer.toString(p.get(JAVA_INT, l.maxThreadsPerBlock())));
            props.put("HIP runtime", hipVersion + " (" + hip.library + ")");
            props.put("driver", "HIP " + hipVersion); // the tuning database is per device and driver
            props.put("hiprtc", hip.rtcMissing.isEmpty() ? hip.rtcLibrary : "missing: " + hip.rtcMissing);
            props.put("matrix unit", t.caps().matrix().toString().toLowerCase(Locale.ROOT) + (t.caps().dot2() ? ", dot2" : ""));
            return new Description(new DeviceInfo("rocm:" + dev, "rocm", name.isEmpty() ? gcn : name, props), t);
        }
    }

    private void current() {
        hip.check(hip.setDevice(ordinal), "hipSetDevice(" + ordinal + ")");
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
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG), total = a.allocate(JAVA_LONG);
            hip.check(hip.memGetInfo(free, total), "hipMemGetInfo");
            return free.get(JAVA_LONG, 0);
        }
    }

    @Override
    public long alloc(long bytes, String what) {
        current();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int status = hip.malloc(p, Math.max(bytes, 16));
            if (status == 2) // hipErrorOutOfMemory
                throw new GpuException(String.format(Locale.ROOT, "out of GPU memory on %s allocating %.1f MiB for %s: %.1f MiB free of %s",
                        info.id(), bytes / 1048576.0, what, freeBytes() / 1048576.0, info.properties().get("memory")));
            hip.check(status, "hipMalloc(" + bytes + " bytes for " + what + ")");
            return p.get(ADDRESS, 0).address();
        }
    }

    @Override
    public void free(long address) {
        current();
        hip.free(MemorySegment.ofAddress(address));
    }

    private static MemorySegment at(long address) {
        return MemorySegment.ofAddress(address);
    }

    /** Synchronous with respect to the stream: queued work finishes first, then the copy. */
    @Override
    public void upload(long dst, MemorySegment src, long bytes) {
        current();
        hip.check(hip.streamSynchronize(stream), "hipStreamSynchronize");
        hip.check(hip.memcpyAsync(at(dst), src, bytes, Hip.HOST_TO_DEVICE, stream), "hipMemcpyAsync(host to device, " + bytes + " bytes)");
        hip.check(hip.streamSynchronize(stream), "hipStreamSynchronize (after an upload)");
    }

    @Override
    public void download(MemorySegment dst, long src, long bytes) {
        current();
        hip.check(hip.streamSynchronize(stream), "hipStreamSynchronize (a kernel failed before this copy)");
        hip.check(hip.memcpyAsync(dst, at(src), bytes, Hip.DEVICE_TO_HOST, stream), "hipMemcpyAsync(device to host, " + bytes + " bytes)");
        hip.check(hip.streamSynchronize(stream), "hipStreamSynchronize (after a download)");
    }

    @Override
    public MemorySegment pinned(long bytes) {
        current();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            hip.check(hip.hostMalloc(p, bytes, Hip.HOST_MALLOC_DEFAULT), "hipHostMalloc(" + bytes + " bytes)");
            MemorySegment block = p.get(ADDRESS, 0);
            synchronized (pinnedBlocks) {
                pinnedBlocks.add(block);
            }
            return block.reinterpret(bytes);
        }
    }

    @Override
    public void uploadAsync(long dst, MemorySegment src, long bytes) {
        hip.check(hip.memcpyAsync(at(dst), src, bytes, Hip.HOST_TO_DEVICE, stream), "hipMemcpyAsync(host to device, " + bytes + " bytes)");
    }

    @Override
    public void downloadAsync(MemorySegment dst, long src, long bytes) {
        hip.check(hip.memcpyAsync(dst, at(src), bytes, Hip.DEVICE_TO_HOST, stream), "hipMemcpyAsync(device to host, " + bytes + " bytes)");
    }

    @Override
    public void zero(long dst, long bytes) {
        current();
        hip.check(hip.memsetAsync(at(dst), 0, bytes, stream), "hipMemsetAsync(" + bytes + " bytes)");
    }

    @Override
    public void copy(long dst, long src, long bytes) {
        current();
        hip.check(hip.memcpyAsync(at(dst), at(src), bytes, Hip.DEVICE_TO_DEVICE, stream), "hipMemcpyAsync(device to device, " + bytes + " bytes)");
    }

    private record Loaded(Kernel kernel, MemorySegment function) implements LoadedKernel {}

    @Override
    public LoadedKernel load(Kernel kernel, String source) {
        byte[] code = rtc.compile(kernel.name(), source);
        current();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(ADDRESS), fn = a.allocate(ADDRESS);
            hip.check(hip.moduleLoadData(m, a.allocateFrom(ValueLayout.JAVA_BYTE, code)), "hipModuleLoadData(" + kernel.name() + ", " + code.length + " bytes for " + target + ")");
            MemorySegment module = m.get(ADDRESS, 0);
            synchronized (modules) {
                modules.add(module);
            }
            hip.check(hip.moduleGetFunction(fn, module, a.allocateFrom(kernel.name())), "hipModuleGetFunction(" + kernel.name() + ")");
            return new Loaded(kernel, fn.get(ADDRESS, 0));
        }
    }

    /** Kernel parameters bound once: an 8-byte cell per buffer, a 4-byte cell per scalar, and the array of their addresses. */
    private final class HipLaunch implements Launch {
        private final Loaded kernel;
        private final Arena cells = Arena.ofShared();
        private final MemorySegment params;
        private final MemorySegment[] scalarCells;

        HipLaunch(Loaded kernel, long[] buffers) {
            this.kernel = kernel;
            int nb = buffers.length, ns = kernel.kernel().scalars().size();
            if (nb != kernel.kernel().buffers().size())
                throw new IllegalArgumentException("kernel " + kernel.kernel().name() + " takes " + kernel.kernel().buffers().size() + " buffers, got " + nb);
            params = cells.allocate(ADDRESS, Math.max(1, nb + ns));
            for (int i = 0; i < nb; i++) params.setAtIndex(ADDRESS, i, cells.allocateFrom(JAVA_LONG, buffers[i]));
            scalarCells = new MemorySegment[ns];
            for (int i = 0; i < ns; i++) {
                scalarCells[i] = cells.allocate(JAVA_INT);
                params.setAtIndex(ADDRESS, nb + i, scalarCells[i]);
            }
        }

        @Override
        public LoadedKernel kernel() {
            return kernel;
        }

        @Override
        public void launch(int[] grid, int[] scalars) {
            for (int i = 0; i < scalarCells.length; i++) scalarCells[i].set(JAVA_INT, 0, scalars[i]);
            int[] b = kernel.kernel().block();
            hip.check(hip.moduleLaunchKernel(kernel.function(), grid[0], grid[1], grid[2], b[0], b[1], b[2], 0, stream, params),
                    "hipModuleLaunchKernel(" + kernel.kernel().name() + ", grid " + grid[0] + "x" + grid[1] + "x" + grid[2] + ")");
        }

        @Override
        public void close() {
            cells.close();
        }
    }

    @Override
    public Launch prepare(LoadedKernel k, long[] buffers) {
        return new HipLaunch((Loaded) k, buffers);
    }

    @Override
    public void synchronize() {
        current();
        hip.check(hip.streamSynchronize(stream), "hipStreamSynchronize (a kernel failed)");
    }

    @Override
    public Captured capture(Runnable body) {
        current();
        hip.check(hip.streamBeginCapture(stream, Hip.CAPTURE_THREAD_LOCAL), "hipStreamBeginCapture");
        MemorySegment g = arena.allocate(ADDRESS), e = arena.allocate(ADDRESS);
        try {
            body.run();
        } finally {
            hip.check(hip.streamEndCapture(stream, g), "hipStreamEndCapture");
        }
        MemorySegment graph = g.get(ADDRESS, 0);
        hip.check(hip.graphInstantiate(e, graph), "hipGraphInstantiate");
        MemorySegment exec = e.get(ADDRESS, 0);
        return new Captured() {
            @Override
            public void replay() {
                current();
                hip.check(hip.graphLaunch(exec, stream), "hipGraphLaunch");
            }

            @Override
            public void close() {
                hip.graphExecDestroy(exec);
                hip.graphDestroy(graph);
            }
        };
    }

    private MemorySegment newEvent(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ev = a.allocate(ADDRESS);
            hip.check(hip.eventCreateWithFlags(ev, flags), "hipEventCreateWithFlags");
            return ev.get(ADDRESS, 0);
        }
    }

    @Override
    public Event event() {
        current();
        MemorySegment ev = newEvent(Hip.EVENT_DISABLE_TIMING);
        return new Event() {
            @Override
            public void record() {
                hip.check(hip.eventRecord(ev, stream), "hipEventRecord");
            }

            @Override
            public void synchronize() {
                hip.check(hip.eventSynchronize(ev), "hipEventSynchronize (a kernel failed)");
            }

            @Override
            public void close() {
                hip.eventDestroy(ev);
            }
        };
    }

    @Override
    public float time(Runnable body) {
        current();
        MemorySegment start = newEvent(Hip.EVENT_DEFAULT), stop = newEvent(Hip.EVENT_DEFAULT);
        try (Arena a = Arena.ofConfined()) {
            hip.check(hip.eventRecord(start, stream), "hipEventRecord");
            body.run();
            hip.check(hip.eventRecord(stop, stream), "hipEventRecord");
            hip.check(hip.eventSynchronize(stop), "hipEventSynchronize (a kernel failed)");
            MemorySegment ms = a.allocate(ValueLayout.JAVA_FLOAT);
            hip.check(hip.eventElapsedTime(ms, start, stop), "hipEventElapsedTime");
            return ms.get(ValueLayout.JAVA_FLOAT, 0);
        } finally {
            hip.eventDestroy(start);
            hip.eventDestroy(stop);
        }
    }

    @Override
    public void close() {
        current();
        hip.streamSynchronize(stream);
        for (MemorySegment m : modules) hip.moduleUnload(m);
        modules.clear();
        for (MemorySegment b : pinnedBlocks) hip.hostFree(b);
        pinnedBlocks.clear();
        hip.streamDestroy(stream);
        arena.close();
    }

    @Override
    public String toString() {
        return info.toString();
    }
}
