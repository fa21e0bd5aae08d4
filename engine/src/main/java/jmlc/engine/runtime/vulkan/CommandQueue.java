package jmlc.engine.runtime.vulkan;

import jmlc.engine.runtime.gpu.GpuException;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.*;

import java.nio.LongBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.lwjgl.vulkan.VK13.*;

/**
 * The in-order queue the {@code GpuDevice} contract promises, over one Vulkan queue: every copy
 * and launch sees what earlier ones wrote.
 *
 * <p>Commands are recorded into an open primary command buffer, each behind one global memory
 * barrier (compute and transfer writes before, compute and transfer reads and writes after): a
 * pipeline barrier orders against everything earlier in submission order, including earlier
 * command buffers and submissions, so one barrier a command is all the ordering needed. The open
 * buffer is submitted when the host must wait ({@link #flush}: events, synchronize, timing) or when
 * it grows long (so the device starts on a long prefill while the host records the rest), in one
 * {@code vkQueueSubmit} that signals the next value of a timeline semaphore; the host waits for
 * values. Command buffers are recycled once the semaphore passes their value.
 *
 * <p>A capture records into its own primary command buffer, made once and submitted again on each
 * replay (simultaneous use: the same step may be queued several times ahead). A replay only
 * closes the open buffer and appends the captured one to the next submission, so a replayed
 * decode step costs no recording and shares one submit with the copies around it. Reusable
 * primaries rather than secondaries executed into the open buffer: no nesting rules, and
 * drivers run them as recorded.
 */
final class CommandQueue implements AutoCloseable {
    /**
     * An open buffer with this many commands, or this many buffers waiting, are submitted while the host
     * records on (a prefill is hundreds of launches; a timing loop replays a step a hundred times).
     */
    static final int SUBMIT_EVERY = 256;

    private final VkDevice device;
    private final VkQueue queue;
    private final long pool;
    private final long timeline;
    /** The last value a submission signals; the device is idle when the semaphore reaches it. */
    private long submitted;
    private VkCommandBuffer open;
    private int openCommands;
    /** Closed buffers (the open ones and captured ones) waiting for the next submission, in order. */
    private final List<VkCommandBuffer> pending = new ArrayList<>();
    /** Recyclable buffers in flight: each free again when the timeline reaches its value. */
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private final ArrayDeque<VkCommandBuffer> free = new ArrayDeque<>();
    /** The pending buffers that return to {@link #free} once done (captured ones do not). */
    private final List<VkCommandBuffer> pendingRecyclable = new ArrayList<>();
    /** The capture being recorded, or null. */
    private VkCommandBuffer capturing;
    private final VkMemoryBarrier.Buffer barrier, hostBarrier;

    private record InFlight(VkCommandBuffer cmd, long value) {}

    CommandQueue(VkDevice device, int family) {
        this.device = device;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer pq = stack.mallocPointer(1);
            vkGetDeviceQueue(device, family, 0, pq);
            this.queue = new VkQueue(pq.get(0), device);
            LongBuffer p = stack.mallocLong(1);
            VkCommandPoolCreateInfo pci = VkCommandPoolCreateInfo.calloc(stack).sType$Default()
                    .flags(VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT).queueFamilyIndex(family);
            Vk.check(vkCreateCommandPool(device, pci, null, p), "vkCreateCommandPool");
            this.pool = p.get(0);
            VkSemaphoreTypeCreateInfo type = VkSemaphoreTypeCreateInfo.calloc(stack).sType$Default().semaphoreType(VK_SEMAPHORE_TYPE_TIMELINE).initialValue(0);
            VkSemaphoreCreateInfo sci = VkSemaphoreCreateInfo.calloc(stack).sType$Default().pNext(type.address());
            Vk.check(vkCreateSemaphore(device, sci, null, p), "vkCreateSemaphore (timeline)");
            this.timeline = p.get(0);
        }
        int writes = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
        this.barrier = VkMemoryBarrier.calloc(1).sType$Default().srcAccessMask(writes)
                .dstAccessMask(VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
        this.hostBarrier = VkMemoryBarrier.calloc(1).sType$Default().srcAccessMask(writes).dstAccessMask(VK_ACCESS_HOST_READ_BIT);
    }

    private static final int STAGES = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;

    /**
     * Records one command ({@code body} writes it into the buffer it is given) after everything
     * queued or captured before it.
     */
    synchronized void record(Consumer<VkCommandBuffer> body) {
        VkCommandBuffer cmd = capturing != null ? capturing : openBuffer();
        vkCmdPipelineBarrier(cmd, STAGES, STAGES, 0, barrier, null, null);
        body.accept(cmd);
        if (capturing == null && ++openCommands >= SUBMIT_EVERY) flush();
    }

    private VkCommandBuffer openBuffer() {
        if (open == null) {
            open = takeFree();
            begin(open, VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT);
            openCommands = 0;
        }
        return open;
    }

    private VkCommandBuffer takeFree() {
        reclaim(completed());
        if (!free.isEmpty()) return free.removeFirst();
        return allocate();
    }

    private VkCommandBuffer allocate() {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkCommandBufferAllocateInfo ai = VkCommandBufferAllocateInfo.calloc(stack).sType$Default()
                    .commandPool(pool).level(VK_COMMAND_BUFFER_LEVEL_PRIMARY).commandBufferCount(1);
            PointerBuffer p = stack.mallocPointer(1);
            Vk.check(vkAllocateCommandBuffers(device, ai, p), "vkAllocateCommandBuffers");
            return new VkCommandBuffer(p.get(0), device);
        }
    }

    private static void begin(VkCommandBuffer cmd, int flags) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            Vk.check(vkBeginCommandBuffer(cmd, VkCommandBufferBeginInfo.calloc(stack).sType$Default().flags(flags)), "vkBeginCommandBuffer");
        }
    }

    /** Ends a buffer: its writes made visible to the host (downloads into pinned memory), then closed. */
    private void end(VkCommandBuffer cmd) {
        vkCmdPipelineBarrier(cmd, STAGES, VK_PIPELINE_STAGE_HOST_BIT, 0, hostBarrier, null, null);
        Vk.check(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
    }

    private void closeOpen() {
        if (open == null) return;
        end(open);
        pending.add(open);
        pendingRecyclable.add(open);
        open = null;
    }

    /** Queues a captured buffer after what is queued now. */
    synchronized void replay(VkCommandBuffer captured) {
        if (capturing != null) throw new IllegalStateException("a captured sequence cannot be replayed inside another capture");
        closeOpen();
        pending.add(captured);
        if (pending.size() >= SUBMIT_EVERY) flush(); // many replays in a row (timing loops): the device starts on them
    }

    /** Submits what is queued; returns the timeline value reached when it (and everything before) is done. */
    synchronized long flush() {
        if (capturing != null) throw new IllegalStateException("the device cannot be waited on while a capture is recorded");
        closeOpen();
        if (pending.isEmpty()) return submitted;
        long value = submitted + 1;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer cmds = stack.mallocPointer(pending.size());
            for (VkCommandBuffer c : pending) cmds.put(c);
            cmds.flip();
            VkTimelineSemaphoreSubmitInfo ts = VkTimelineSemaphoreSubmitInfo.calloc(stack).sType$Default()
                    .signalSemaphoreValueCount(1).pSignalSemaphoreValues(stack.longs(value));
            VkSubmitInfo si = VkSubmitInfo.calloc(stack).sType$Default().pNext(ts.address()).pCommandBuffers(cmds).pSignalSemaphores(stack.longs(timeline));
            Vk.check(vkQueueSubmit(queue, si, VK_NULL_HANDLE), "vkQueueSubmit");
        }
        submitted = value;
        for (VkCommandBuffer c : pendingRecyclable) inFlight.addLast(new InFlight(c, value));
        pending.clear();
        pendingRecyclable.clear();
        return value;
    }

    /** Waits until the device has finished the submission that signals {@code value}. */
    void waitFor(long value) {
        if (value <= 0) return;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkSemaphoreWaitInfo wi = VkSemaphoreWaitInfo.calloc(stack).sType$Default().semaphoreCount(1)
                    .pSemaphores(stack.longs(timeline)).pValues(stack.longs(value));
            int r = vkWaitSemaphores(device, wi, -1L);
            if (r != VK_SUCCESS) throw new GpuException("waiting for the Vulkan queue failed: " + Vk.name(r));
        }
        synchronized (this) {
            reclaim(value);
        }
    }

    /** Submits what is queued and waits for all of it. */
    void synchronize() {
        waitFor(flush());
    }

    /** The timeline's value now: every submission up to it is done. */
    private long completed() {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer v = stack.mallocLong(1);
            int r = vkGetSemaphoreCounterValue(device, timeline, v);
            if (r != VK_SUCCESS) throw new GpuException("vkGetSemaphoreCounterValue failed: " + Vk.name(r));
            return v.get(0);
        }
    }

    private void reclaim(long done) {
        while (!inFlight.isEmpty() && inFlight.peekFirst().value() <= done) free.addLast(inFlight.removeFirst().cmd());
    }

    // ---- capture ----

    /** Starts recording a capture: commands go into a new reusable buffer until {@link #endCapture}. */
    synchronized void beginCapture() {
        if (capturing != null) throw new IllegalStateException("captures do not nest");
        capturing = allocate();
        begin(capturing, VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT);
    }

    synchronized VkCommandBuffer endCapture() {
        VkCommandBuffer c = capturing;
        capturing = null;
        end(c);
        return c;
    }

    synchronized boolean capturing() {
        return capturing != null;
    }

    /** Frees a captured buffer (after the device is done with it). */
    void release(VkCommandBuffer captured) {
        synchronize();
        synchronized (this) {
            vkFreeCommandBuffers(device, pool, captured);
        }
    }

    @Override
    public void close() {
        try {
            synchronize();
        } catch (RuntimeException e) {
            // a lost device: free what can be freed anyway
        }
        vkDestroySemaphore(device, timeline, null);
        vkDestroyCommandPool(device, pool, null);
        barrier.free();
        hostBarrier.free();
    }
}
