package jmlc.engine.runtime.sim;

import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.kernel.KernelSimulator;
import jmlc.compiler.target.Target;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.GpuException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link GpuDevice} whose memory is host memory and whose kernels run on the
 * {@link KernelSimulator} at the target's subgroup width: the GPU runner's memory layout, argument
 * binding, capture and replay, and device sampling run in CI, where there is no GPU, on the very
 * kernels and sources a target's runtime would get. Addresses are fake but arithmetic on them works
 * (a pointer into the middle of a buffer resolves to a slice). Thousands of times slower than a GPU.
 *
 * <p>Its clock is modeled, not measured: {@link #time} reports what the launches in it would take on
 * a device that issues one warp instruction a cycle per multiprocessor at 1 GHz, dealing each launch's
 * blocks in order to the least busy of the target's multiprocessors, plus {@link #LAUNCH_CYCLES} a
 * launch ({@link KernelSimulator.Cost}: the simulator counts the instructions). Deterministic, so a
 * test of the tuner knows the best knobs; a model of the work a kernel asks for and how it spreads
 * over the device, not of memory bandwidth or latency.
 */
public final class SimulatedDevice implements GpuDevice {
    private final Arena arena = Arena.ofShared();
    private final TreeMap<Long, MemorySegment> memory = new TreeMap<>();
    private final Target target;
    private final KernelSimulator sim;
    private long next = 1L << 20;
    private List<Runnable> recording;
    private int launches;
    private long blocks;
    /** Modeled cycles of every launch so far. */
    private long cycles;
    /** A launch's fixed cost on the modeled clock (2 µs at 1 GHz: the order of a real launch's). */
    public static final long LAUNCH_CYCLES = 2000;
    /** The source of every kernel loaded, by name: what a real runtime would have compiled. */
    private final Map<String, String> sources = new java.util.concurrent.ConcurrentHashMap<>();
    /** What {@link #freeBytes} reports, less what is allocated (16 GiB unless a test sets less). */
    private long capacity = 1L << 34;
    private long allocated;

    public SimulatedDevice(Target target) {
        this.target = target;
        this.sim = new KernelSimulator(target.warpSize());
    }

    /** The device {@code sim:<target>} stands for. */
    public static DeviceInfo describe(Target target) {
        Map<String, String> p = new java.util.LinkedHashMap<>();
        p.put("target", target.toString());
        p.put("subgroup size", Integer.toString(target.warpSize()));
        p.put("multiprocessors", Integer.toString(target.multiprocessors()));
        p.put("clock", "modeled: a warp instruction a multiprocessor a cycle at 1 GHz");
        p.put("driver", "kernel simulator");
        return new DeviceInfo(SimulatorPlatform.NAME + ":" + target, SimulatorPlatform.NAME, "kernel simulator for " + target, p);
    }

    @Override
    public DeviceInfo info() {
        return describe(target);
    }

    /** Sets the memory this device pretends to have (tests of out-of-memory refusals). */
    public void capacity(long bytes) {
        capacity = bytes;
    }

    /** Kernel launches run so far. */
    public int launches() {
        return launches;
    }

    /** Thread blocks launched so far, over every launch's grid. */
    public long blocks() {
        return blocks;
    }

    /** The source of every kernel loaded, by name: what a real runtime would have compiled. */
    public Map<String, String> sources() {
        return Map.copyOf(sources);
    }

    @Override
    public Target target() {
        return target;
    }

    @Override
    public long freeBytes() {
        return capacity - allocated;
    }

    @Override
    public long alloc(long bytes, String what) {
        if (bytes > freeBytes()) throw new GpuException("out of simulated device memory: " + bytes + " bytes for " + what + ", " + freeBytes() + " free");
        allocated += Math.max(bytes, 16);
        long a = next;
        memory.put(a, arena.allocate(Math.max(bytes, 16), 256));
        next += (Math.max(bytes, 16) + 255) / 256 * 256 + 256;
        return a;
    }

    @Override
    public void free(long address) {
        MemorySegment m = memory.remove(address);
        if (m != null) allocated -= m.byteSize();
    }

    MemorySegment at(long address) {
        var e = memory.floorEntry(address);
        if (e == null || address - e.getKey() >= e.getValue().byteSize()) throw new IllegalArgumentException("address " + address + " is not allocated");
        return e.getValue().asSlice(address - e.getKey());
    }

    @Override
    public void upload(long dst, MemorySegment src, long bytes) {
        MemorySegment.copy(src, 0, at(dst), 0, bytes);
    }

    // zero and copy run in stream order, as CUDA's (cuMemsetD8Async, cuMemcpyDtoDAsync): one captured in a graph runs
    // at each replay, not at capture; bad addresses fail at the call
    @Override
    public void zero(long dst, long bytes) {
        MemorySegment m = at(dst).asSlice(0, bytes);
        queue(() -> m.fill((byte) 0));
    }

    @Override
    public void copy(long dst, long src, long bytes) {
        MemorySegment from = at(src).asSlice(0, bytes), to = at(dst).asSlice(0, bytes);
        queue(() -> MemorySegment.copy(from, 0, to, 0, bytes));
    }

    @Override
    public void download(MemorySegment dst, long src, long bytes) {
        MemorySegment.copy(at(src), 0, dst, 0, bytes);
    }

    private record Loaded(Kernel kernel, int blocksPerMultiprocessor, int multiprocessors) implements LoadedKernel {}

    private int blocksPerMultiprocessor, multiprocessors;

    /**
     * Blocks of every kernel loaded from now on that each of {@code multiprocessors} keeps resident at
     * once (0, the default: unknown), so tests can run persistent grids dealt over fewer blocks ({@code LaunchGrid}).
     */
    public void residency(int blocksPerMultiprocessor, int multiprocessors) {
        this.blocksPerMultiprocessor = blocksPerMultiprocessor;
        this.multiprocessors = multiprocessors;
    }

    @Override
    public MemorySegment pinned(long bytes) {
        return arena.allocate(bytes, 64);
    }

    @Override
    public void uploadAsync(long dst, MemorySegment src, long bytes) {
        MemorySegment copy = arena.allocate(Math.max(bytes, 1)); // the source may change before a recorded replay: copy now
        MemorySegment.copy(src, 0, copy, 0, bytes);
        queue(() -> MemorySegment.copy(copy, 0, at(dst), 0, bytes));
    }

    @Override
    public void downloadAsync(MemorySegment dst, long src, long bytes) {
        queue(() -> MemorySegment.copy(at(src), 0, dst, 0, bytes));
    }

    private void queue(Runnable r) {
        if (recording != null) recording.add(r);
        else r.run();
    }

    /** Launches prepared as programmatic dependents, where the target has them (they run as plain ones here: in order). */
    private int dependentLaunches;

    /** Launches prepared so far as programmatic dependents ({@link #prepare(LoadedKernel, long[], boolean)}). */
    public int dependentLaunches() {
        return dependentLaunches;
    }

    @Override
    public Launch prepare(LoadedKernel k, long[] buffers, boolean dependent) {
        if (dependent && target.caps().gridDependency()) dependentLaunches++;
        return prepare(k, buffers);
    }

    @Override
    public Launch prepare(LoadedKernel k, long[] buffers) {
        return new Launch() {
            @Override
            public LoadedKernel kernel() {
                return k;
            }

            @Override
            public void launch(int[] grid, int[] scalars) {
                SimulatedDevice.this.launch(k, grid, buffers.clone(), scalars.clone());
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public LoadedKernel load(Kernel kernel, String source) {
        if (!source.contains(kernel.name())) throw new IllegalStateException("source of " + kernel.name() + " does not name it");
        sources.put(kernel.name(), source);
        return new Loaded(kernel, blocksPerMultiprocessor, multiprocessors);
    }

    @Override
    public void launch(LoadedKernel k, int[] grid, long[] buffers, int[] scalars) { // direct, not through prepare
        Kernel kernel = k.kernel();
        int[] g = grid.clone();
        Runnable run = () -> {
            Map<String, MemorySegment> bufs = new HashMap<>();
            for (int i = 0; i < buffers.length; i++) bufs.put(kernel.buffers().get(i).name(), at(buffers[i]));
            Map<String, Integer> sc = new HashMap<>();
            for (int i = 0; i < scalars.length; i++) sc.put(kernel.scalars().get(i).name(), scalars[i]);
            KernelSimulator.Cost cost = sim.launch(kernel, bufs, sc, g);
            blocks += (long) g[0] * g[1] * g[2];
            cycles += LAUNCH_CYCLES + makespan(cost, target.multiprocessors());
            launches++;
        };
        if (recording != null) recording.add(run);
        else run.run();
    }

    /** Host waits: each one a real device would make the host idle through (and the device, once it is done). */
    private int synchronizations;

    /** Host waits so far: each one a real device would make the host idle through. */
    public int synchronizations() {
        return synchronizations;
    }

    @Override
    public void synchronize() {
        synchronizations++;
    }

    @Override
    public Captured capture(Runnable body) {
        List<Runnable> rec = new ArrayList<>();
        recording = rec;
        try {
            body.run();
        } finally {
            recording = null;
        }
        return new Captured() {
            @Override
            public void replay() {
                rec.forEach(Runnable::run);
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public Event event() {
        return new Event() { // work runs as it is queued here: every point is reached at once
            @Override
            public void record() {
            }

            @Override
            public void synchronize() {
            }

            @Override
            public void close() {
            }
        };
    }

    /** Modeled milliseconds of what {@code body} launches (see the class comment), not wall time. */
    @Override
    public float time(Runnable body) {
        long before = cycles;
        body.run();
        return (cycles - before) / 1e6f;
    }

    @Override
    public boolean modeledClock() {
        return true;
    }

    /** Cycles until the last block is done, blocks dealt in order to the least busy of {@code sms} multiprocessors. */
    static long makespan(KernelSimulator.Cost cost, int sms) {
        java.util.PriorityQueue<Long> busy = new java.util.PriorityQueue<>();
        for (int i = 0; i < Math.min(sms, cost.blockIssues().length); i++) busy.add(0L);
        long end = 0;
        for (long b : cost.blockIssues()) {
            long t = busy.poll() + b;
            end = Math.max(end, t);
            busy.add(t);
        }
        return end;
    }

    @Override
    public void close() {
    }
}
