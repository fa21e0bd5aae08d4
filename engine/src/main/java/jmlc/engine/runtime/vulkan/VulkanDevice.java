package jmlc.engine.runtime.vulkan;

import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.target.Target;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.GpuException;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;
import org.lwjgl.vulkan.*;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.lwjgl.vulkan.EXTMemoryBudget.VK_EXT_MEMORY_BUDGET_EXTENSION_NAME;
import static org.lwjgl.vulkan.EXTSubgroupSizeControl.VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME;
import static org.lwjgl.vulkan.VK13.*;

/**
 * One Vulkan device as a {@link GpuDevice}: memory through VMA ({@link VulkanMemory}: addresses are
 * buffer device addresses), GLSL compiled by {@link ShaderCompiler} into one compute pipeline per
 * kernel (subgroup size pinned to the target's, full subgroups), launches as push constants plus a
 * dispatch on an in-order {@link CommandQueue}, captures as reusable command buffers, events as
 * timeline values, timing by timestamp queries. The kernel ABI is {@code GlslEmitter}'s: no
 * descriptor sets, each buffer's 8-byte address then each 4-byte scalar in push constants.
 */
public final class VulkanDevice implements GpuDevice {
    /** Staging for copies from and to host memory that is not pinned (weights, diagnostics): two blocks, filled and copied in turn. */
    private static final long STAGING = 4L << 20;

    /**
     * How a device is opened.
     *
     * @param heapLimit bytes each memory heap may hold (0: all it has)
     * @param storage8  use 8-bit storage where the device has it; false reaches bytes through 32-bit
     *                  words, as on a device without it (the fallback, run on any device)
     */
    public record Options(long heapLimit, boolean storage8) {
        public Options(long heapLimit) {
            this(heapLimit, true);
        }

        public static Options defaults() {
            return new Options(0, true);
        }
    }

    private final DeviceProbe probe;
    /** The probe's target, less 8-bit storage where the options turn it off. */
    private final Target target;
    private final VkInstance instance;
    private final VkDevice device;
    private final VulkanMemory memory;
    private final CommandQueue queue;
    private final ShaderCompiler compiler;
    private final PipelineCache pipelineCache;
    private final long queryPool;
    private final List<VulkanKernel> kernels = new ArrayList<>();
    private final MemorySegment[] staging = new MemorySegment[2];
    private final long[] stagingDone = new long[2];
    private final MemorySegment zeros;
    private boolean closed;

    /** Opens a device {@link VulkanPlatform} found usable. */
    public static VulkanDevice open(DeviceProbe probe, Options options) {
        return new VulkanDevice(probe, options);
    }

    private VulkanDevice(DeviceProbe probe, Options options) {
        this.probe = probe;
        this.target = options.storage8() ? probe.target() : new Target(probe.target().platform(), probe.target().arch(), probe.target().caps().withStorage8(false));
        this.instance = Vk.acquire();
        VkDevice dev = null;
        VulkanMemory mem = null;
        CommandQueue q = null;
        ShaderCompiler sc = null;
        try {
            List<VkPhysicalDevice> pds = Vk.physicalDevices(instance);
            if (probe.index() >= pds.size()) throw new GpuException(probe.info() + " is gone: the loader now reports " + pds.size() + " devices");
            VkPhysicalDevice pd = pds.get(probe.index());
            int api = Math.min(probe.apiVersion(), instance.getCapabilities().apiVersion);
            dev = createDevice(pd, api);
            this.device = dev;
            mem = new VulkanMemory(instance, pd, dev, api, probe.memoryBudget(), options.heapLimit(), probe.info().id(), Math.min(probe.maxBufferBytes(), probe.maxAllocationBytes()));
            this.memory = mem;
            q = new CommandQueue(dev, probe.queueFamily());
            this.queue = q;
            sc = new ShaderCompiler();
            this.compiler = sc;
            this.pipelineCache = new PipelineCache(dev, probe);
            this.queryPool = probe.timestampBits() > 0 ? createQueryPool(dev) : VK_NULL_HANDLE;
            for (int i = 0; i < 2; i++) staging[i] = mem.pinned(STAGING, "staging for host copies");
            this.zeros = mem.pinned(64, "zeros");
            zeros.fill((byte) 0);
        } catch (RuntimeException e) {
            if (sc != null) sc.close();
            if (q != null) q.close();
            if (mem != null) mem.close();
            if (dev != null) vkDestroyDevice(dev, null);
            Vk.release();
            throw e;
        }
    }

    /** The logical device with what the kernel ABI needs enabled (DeviceProbe checked the device has it). */
    private VkDevice createDevice(VkPhysicalDevice pd, int api) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkDeviceQueueCreateInfo.Buffer queues = VkDeviceQueueCreateInfo.calloc(1, stack).sType$Default()
                    .queueFamilyIndex(probe.queueFamily()).pQueuePriorities(stack.floats(1f));
            VkPhysicalDeviceFeatures2 f2 = VkPhysicalDeviceFeatures2.calloc(stack).sType$Default();
            f2.features().shaderInt16(probe.int16());
            VkPhysicalDeviceVulkan11Features f11 = VkPhysicalDeviceVulkan11Features.calloc(stack).sType$Default().storageBuffer16BitAccess(true);
            VkPhysicalDeviceVulkan12Features f12 = VkPhysicalDeviceVulkan12Features.calloc(stack).sType$Default()
                    .bufferDeviceAddress(true).timelineSemaphore(true).shaderFloat16(probe.f16())
                    .storageBuffer8BitAccess(target.caps().storage8());
            List<Long> chain = new ArrayList<>(List.of(f2.address(), f11.address(), f12.address()));
            List<String> extensions = new ArrayList<>();
            switch (probe.sizeControl()) {
                case CORE -> chain.add(VkPhysicalDeviceVulkan13Features.calloc(stack).sType$Default().subgroupSizeControl(true).computeFullSubgroups(true)
                        .shaderIntegerDotProduct(probe.target().caps().dot4()).address());
                case EXTENSION -> {
                    chain.add(VkPhysicalDeviceSubgroupSizeControlFeaturesEXT.calloc(stack).sType$Default().subgroupSizeControl(true).computeFullSubgroups(true).address());
                    extensions.add(VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
                }
                case NONE -> { }
            }
            if (probe.memoryBudget()) extensions.add(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
            if (probe.target().caps().matrix().opaque()) { // the prefill GEMMs' cooperative matrices
                chain.add(VkPhysicalDeviceCooperativeMatrixFeaturesKHR.calloc(stack).sType$Default().cooperativeMatrix(true).address());
                extensions.add(DeviceProbe.EXT_COOPERATIVE_MATRIX);
            }
            if (probe.executableStatistics()) {
                chain.add(VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR.calloc(stack).sType$Default().pipelineExecutableInfo(true).address());
                extensions.add(DeviceProbe.EXT_EXECUTABLE_PROPERTIES);
            }
            DeviceProbe.link(chain);
            PointerBuffer ext = stack.mallocPointer(extensions.size());
            for (String e : extensions) ext.put(stack.UTF8(e));
            ext.flip();
            VkDeviceCreateInfo ci = VkDeviceCreateInfo.calloc(stack).sType$Default().pNext(f2.address()).pQueueCreateInfos(queues).ppEnabledExtensionNames(ext);
            PointerBuffer p = stack.mallocPointer(1);
            int r = vkCreateDevice(pd, ci, null, p);
            if (r != VK_SUCCESS) throw new GpuException("vkCreateDevice on " + probe.info() + " failed: " + Vk.name(r));
            return new VkDevice(p.get(0), pd, ci, api);
        }
    }

    private static long createQueryPool(VkDevice dev) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer p = stack.mallocLong(1);
            Vk.check(vkCreateQueryPool(dev, VkQueryPoolCreateInfo.calloc(stack).sType$Default().queryType(VK_QUERY_TYPE_TIMESTAMP).queryCount(2), null, p), "vkCreateQueryPool");
            return p.get(0);
        }
    }

    @Override
    public DeviceInfo info() {
        return probe.info();
    }

    @Override
    public Target target() {
        return target;
    }

    @Override
    public long freeBytes() {
        return memory.freeBytes();
    }

    @Override
    public long alloc(long bytes, String what) {
        return memory.alloc(bytes, what);
    }

    @Override
    public void free(long address) {
        queue.synchronize(); // queued work may still use it
        memory.free(address);
    }

    // ---- copies ----

    private void copyCommand(VulkanMemory.Slice src, VulkanMemory.Slice dst, long bytes) {
        if (bytes <= 0) return;
        queue.record(cmd -> {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                vkCmdCopyBuffer(cmd, src.buffer(), dst.buffer(), VkBufferCopy.calloc(1, stack).srcOffset(src.offset()).dstOffset(dst.offset()).size(bytes));
            }
        });
    }

    /** Waits for queued work, then copies through the staging blocks (two in turn, so filling one overlaps copying the other). */
    @Override
    public synchronized void upload(long dst, MemorySegment src, long bytes) {
        VulkanMemory.Slice d = memory.device(dst, bytes);
        VulkanMemory.Slice pinned = memory.pinned(src, bytes);
        if (pinned != null) {
            copyCommand(pinned, d, bytes);
            queue.synchronize();
            return;
        }
        int turn = 0;
        long last = 0;
        for (long off = 0; off < bytes; off += STAGING, turn ^= 1) {
            long n = Math.min(STAGING, bytes - off);
            queue.waitFor(stagingDone[turn]);
            MemorySegment.copy(src, off, staging[turn], 0, n);
            copyCommand(memory.pinned(staging[turn], n), new VulkanMemory.Slice(d.buffer(), d.offset() + off), n);
            last = stagingDone[turn] = queue.flush();
        }
        queue.waitFor(last);
    }

    @Override
    public synchronized void download(MemorySegment dst, long src, long bytes) {
        VulkanMemory.Slice s = memory.device(src, bytes);
        VulkanMemory.Slice pinned = memory.pinned(dst, bytes);
        if (pinned != null) {
            copyCommand(s, pinned, bytes);
            queue.synchronize();
            return;
        }
        for (long off = 0; off < bytes; off += STAGING) {
            long n = Math.min(STAGING, bytes - off);
            queue.waitFor(stagingDone[0]);
            copyCommand(new VulkanMemory.Slice(s.buffer(), s.offset() + off), memory.pinned(staging[0], n), n);
            queue.waitFor(stagingDone[0] = queue.flush());
            MemorySegment.copy(staging[0], 0, dst, off, n);
        }
    }

    @Override
    public MemorySegment pinned(long bytes) {
        return memory.pinned(bytes, "pinned host memory");
    }

    /** From pinned memory a queued copy; from other host memory (outside a capture) a copy now, after the queued work. */
    @Override
    public void uploadAsync(long dst, MemorySegment src, long bytes) {
        VulkanMemory.Slice pinned = memory.pinned(src, bytes);
        if (pinned != null) copyCommand(pinned, memory.device(dst, bytes), bytes);
        else if (queue.capturing()) throw new IllegalStateException("a copy in a capture must come from pinned memory (GpuDevice.pinned)");
        else upload(dst, src, bytes);
    }

    @Override
    public void downloadAsync(MemorySegment dst, long src, long bytes) {
        VulkanMemory.Slice pinned = memory.pinned(dst, bytes);
        if (pinned != null) copyCommand(memory.device(src, bytes), pinned, bytes);
        else if (queue.capturing()) throw new IllegalStateException("a copy in a capture must go to pinned memory (GpuDevice.pinned)");
        else download(dst, src, bytes);
    }

    /** vkCmdFillBuffer for the 4-byte aligned middle; ragged ends copied from a pinned block of zeros. */
    @Override
    public void zero(long dst, long bytes) {
        if (bytes <= 0) return;
        VulkanMemory.Slice d = memory.device(dst, bytes);
        long head = Math.min(bytes, (4 - (d.offset() & 3)) & 3), body = (bytes - head) & ~3L, tail = bytes - head - body;
        VulkanMemory.Slice z = memory.pinned(zeros, 4);
        if (head > 0) copyCommand(z, d, head);
        if (body > 0) queue.record(cmd -> vkCmdFillBuffer(cmd, d.buffer(), d.offset() + head, body, 0));
        if (tail > 0) copyCommand(z, new VulkanMemory.Slice(d.buffer(), d.offset() + head + body), tail);
    }

    @Override
    public void copy(long dst, long src, long bytes) {
        copyCommand(memory.device(src, bytes), memory.device(dst, bytes), bytes);
    }

    // ---- kernels ----

    @Override
    public LoadedKernel load(Kernel kernel, String source) {
        byte[] spv = compiler.compileSpecialized(kernel.name(), source); // VulkanKernel specializes the open knobs
        VulkanKernel k = VulkanKernel.create(device, pipelineCache.handle(), kernel, spv, probe);
        synchronized (kernels) {
            kernels.add(k);
        }
        return k;
    }

    /** Push constants bound once: each buffer's address; the scalars are written per launch. */
    private final class VulkanLaunch implements Launch {
        private final VulkanKernel kernel;
        private final ByteBuffer args;
        private final int scalarsAt;

        VulkanLaunch(VulkanKernel kernel, long[] buffers) {
            this.kernel = kernel;
            Kernel k = kernel.kernel();
            if (buffers.length != k.buffers().size())
                throw new IllegalArgumentException("kernel " + k.name() + " takes " + k.buffers().size() + " buffers, got " + buffers.length);
            this.args = MemoryUtil.memCalloc(Math.max(4, kernel.pushBytes())).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < buffers.length; i++) args.putLong(8 * i, buffers[i]);
            this.scalarsAt = 8 * buffers.length;
        }

        @Override
        public LoadedKernel kernel() {
            return kernel;
        }

        @Override
        public void launch(int[] grid, int[] scalars) {
            for (int i = 0; i < scalars.length; i++) args.putInt(scalarsAt + 4 * i, scalars[i]);
            for (int d = 0; d < 3; d++)
                if (grid[d] > probe.maxGroups()[d])
                    throw new GpuException("kernel " + kernel.kernel().name() + ": grid " + grid[0] + "x" + grid[1] + "x" + grid[2] + " exceeds "
                            + probe.info() + "'s maxComputeWorkGroupCount " + probe.maxGroups()[0] + "x" + probe.maxGroups()[1] + "x" + probe.maxGroups()[2]);
            queue.record(cmd -> {
                vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.pipeline());
                if (kernel.pushBytes() > 0) vkCmdPushConstants(cmd, kernel.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, args.limit(kernel.pushBytes()));
                vkCmdDispatch(cmd, grid[0], grid[1], grid[2]);
            });
        }

        @Override
        public void close() {
            MemoryUtil.memFree(args);
        }
    }

    @Override
    public Launch prepare(LoadedKernel k, long[] buffers) {
        return new VulkanLaunch((VulkanKernel) k, buffers);
    }

    // ---- queue ----

    @Override
    public void synchronize() {
        queue.synchronize();
    }

    @Override
    public Event event() {
        return new Event() {
            private long value;

            @Override
            public void record() {
                value = queue.flush();
            }

            @Override
            public void synchronize() {
                queue.waitFor(value);
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public Captured capture(Runnable body) {
        queue.beginCapture();
        VkCommandBuffer cmd;
        try {
            body.run();
        } finally {
            cmd = queue.endCapture();
        }
        return new Captured() {
            private boolean closed;

            @Override
            public void replay() {
                if (closed) throw new IllegalStateException("replay of a closed capture");
                queue.replay(cmd);
            }

            @Override
            public void close() {
                if (closed) return;
                closed = true;
                queue.release(cmd);
            }
        };
    }

    /** Device time between two timestamps around what {@code body} queues (host time where the queue has no timestamps). */
    @Override
    public float time(Runnable body) {
        queue.synchronize();
        if (queryPool == VK_NULL_HANDLE) {
            long t0 = System.nanoTime();
            body.run();
            queue.synchronize();
            return (System.nanoTime() - t0) / 1e6f;
        }
        queue.record(cmd -> {
            vkCmdResetQueryPool(cmd, queryPool, 0, 2);
            vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queryPool, 0);
        });
        body.run();
        queue.record(cmd -> vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queryPool, 1));
        queue.synchronize();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer t = stack.mallocLong(2);
            Vk.check(vkGetQueryPoolResults(device, queryPool, 0, 2, t, 8, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT), "vkGetQueryPoolResults");
            long mask = probe.timestampBits() >= 64 ? -1L : (1L << probe.timestampBits()) - 1;
            long ticks = (t.get(1) - t.get(0)) & mask;
            return (float) (ticks * (double) probe.timestampPeriod() / 1e6);
        }
    }

    /** Closing twice is allowed (a runner that fails to load closes its device, and so does the backend that opened it). */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            queue.synchronize();
        } catch (RuntimeException e) {
            // a lost device: free what can be freed anyway
        }
        synchronized (kernels) {
            for (VulkanKernel k : kernels) k.destroy(device);
            kernels.clear();
        }
        if (queryPool != VK_NULL_HANDLE) vkDestroyQueryPool(device, queryPool, null);
        queue.close();
        memory.close();
        pipelineCache.close();
        compiler.close();
        vkDestroyDevice(device, null);
        Vk.release();
    }

    @Override
    public String toString() {
        return probe.info().toString();
    }
}
