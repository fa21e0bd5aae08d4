package jmlc.engine.runtime.vulkan;

import jmlc.engine.runtime.gpu.GpuException;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.util.vma.VmaAllocationCreateInfo;
import org.lwjgl.util.vma.VmaAllocationInfo;
import org.lwjgl.util.vma.VmaAllocatorCreateInfo;
import org.lwjgl.util.vma.VmaBudget;
import org.lwjgl.util.vma.VmaVulkanFunctions;
import org.lwjgl.vulkan.VkBufferCreateInfo;
import org.lwjgl.vulkan.VkBufferDeviceAddressInfo;
import org.lwjgl.vulkan.VkDevice;
import org.lwjgl.vulkan.VkInstance;
import org.lwjgl.vulkan.VkPhysicalDevice;
import org.lwjgl.vulkan.VkPhysicalDeviceMemoryProperties;

import java.lang.foreign.MemorySegment;
import java.nio.LongBuffer;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static org.lwjgl.util.vma.Vma.*;
import static org.lwjgl.vulkan.VK13.*;

/**
 * A device's memory through the Vulkan Memory Allocator: one VkBuffer per allocation, known to
 * kernels by its buffer device address (the GpuDevice's addresses are these, so an address into
 * the middle of a buffer works in kernels as on CUDA), and pinned host memory as host-visible,
 * mapped buffers that copies read and write directly. Copies need the VkBuffer and offset behind
 * an address: {@link #device} and {@link #pinned} find them.
 */
final class VulkanMemory implements AutoCloseable {
    /** Allocations start on this boundary: the widest vector load a kernel makes is 16 bytes, and 256 suits every GPU's caches. */
    static final long ALIGN = 256;

    /** A buffer and a byte offset in it. */
    record Slice(long buffer, long offset) {}

    private record Block(long buffer, long allocation, long base, long size, String what) {}

    private final VkDevice device;
    private final long allocator;
    private final String deviceId;
    private final long maxBufferBytes;
    private final TreeMap<Long, Block> byAddress = new TreeMap<>();
    private final TreeMap<Long, Block> pinnedByHost = new TreeMap<>();

    /**
     * @param heapLimit bytes each heap may hold (0: all of it): VMA refuses allocations past it as
     *                  the driver would when the device is full, so memory can be left to others
     */
    VulkanMemory(VkInstance instance, VkPhysicalDevice pd, VkDevice device, int apiVersion, boolean memoryBudget, long heapLimit, String deviceId, long maxBufferBytes) {
        this.device = device;
        this.deviceId = deviceId;
        this.maxBufferBytes = maxBufferBytes;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VmaVulkanFunctions fns = VmaVulkanFunctions.calloc(stack).set(instance, device);
            VmaAllocatorCreateInfo ci = VmaAllocatorCreateInfo.calloc(stack)
                    .flags(VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT | (memoryBudget ? VMA_ALLOCATOR_CREATE_EXT_MEMORY_BUDGET_BIT : 0))
                    .physicalDevice(pd).device(device).instance(instance).pVulkanFunctions(fns)
                    .vulkanApiVersion(VK_API_VERSION_MINOR(apiVersion) >= 3 ? VK_API_VERSION_1_3 : VK_API_VERSION_1_2);
            if (heapLimit > 0) {
                VkPhysicalDeviceMemoryProperties mp = VkPhysicalDeviceMemoryProperties.calloc(stack);
                vkGetPhysicalDeviceMemoryProperties(pd, mp);
                LongBuffer limits = stack.mallocLong(VK_MAX_MEMORY_HEAPS);
                for (int i = 0; i < VK_MAX_MEMORY_HEAPS; i++) limits.put(i, i < mp.memoryHeapCount() ? Math.min(heapLimit, mp.memoryHeaps(i).size()) : VK_WHOLE_SIZE);
                ci.pHeapSizeLimit(limits);
            }
            PointerBuffer p = stack.mallocPointer(1);
            Vk.check(vmaCreateAllocator(ci, p), "vmaCreateAllocator");
            this.allocator = p.get(0);
        }
    }

    /** Device memory of {@code bytes}; its address, as kernels see it. {@code what} names it in an out-of-memory error. */
    synchronized long alloc(long bytes, String what) {
        long size = Math.max(bytes, 16);
        if (size > maxBufferBytes)
            throw new GpuException(String.format(Locale.ROOT, "%s cannot hold %s: %.1f MiB is more than the largest buffer it allows (%.1f MiB)",
                    deviceId, what, size / 1048576.0, maxBufferBytes / 1048576.0));
        Block b = create(size, what, false);
        byAddress.put(b.base(), b);
        return b.base();
    }

    private Block create(long size, String what, boolean host) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            int usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
                    | (host ? 0 : VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT);
            VkBufferCreateInfo bi = VkBufferCreateInfo.calloc(stack).sType$Default().size(size).usage(usage).sharingMode(VK_SHARING_MODE_EXCLUSIVE);
            VmaAllocationCreateInfo ai = VmaAllocationCreateInfo.calloc(stack);
            if (host) // pinned memory: mapped for good, coherent (no flushes), cached where the device offers it (reads of results)
                ai.usage(VMA_MEMORY_USAGE_AUTO_PREFER_HOST).flags(VMA_ALLOCATION_CREATE_HOST_ACCESS_RANDOM_BIT | VMA_ALLOCATION_CREATE_MAPPED_BIT)
                        .requiredFlags(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)
                        .preferredFlags(VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
            else ai.usage(VMA_MEMORY_USAGE_AUTO_PREFER_DEVICE);
            LongBuffer buf = stack.mallocLong(1);
            PointerBuffer alloc = stack.mallocPointer(1);
            VmaAllocationInfo info = VmaAllocationInfo.calloc(stack);
            int r = vmaCreateBufferWithAlignment(allocator, bi, ai, ALIGN, buf, alloc, info);
            if (Vk.outOfMemory(r))
                throw new GpuException(String.format(Locale.ROOT, "out of %s memory on %s allocating %.1f MiB for %s: %.1f MiB free (%s)",
                        host ? "host-visible" : "device", deviceId, size / 1048576.0, what, freeBytes() / 1048576.0, Vk.name(r)));
            Vk.check(r, "vmaCreateBuffer(" + size + " bytes for " + what + ")");
            long base = host ? info.pMappedData()
                    : vkGetBufferDeviceAddress(device, VkBufferDeviceAddressInfo.calloc(stack).sType$Default().buffer(buf.get(0)));
            if (host && base == 0) throw new GpuException("pinned memory for " + what + " on " + deviceId + " was not mapped");
            return new Block(buf.get(0), alloc.get(0), base, size, what);
        }
    }

    synchronized void free(long address) {
        Block b = byAddress.remove(address);
        if (b == null) throw new IllegalArgumentException("address " + Long.toHexString(address) + " is not an allocation on " + deviceId);
        vmaDestroyBuffer(allocator, b.buffer(), b.allocation());
    }

    /** Host memory the device copies to and from directly: host-visible, coherent, mapped. Freed with the device. */
    synchronized MemorySegment pinned(long bytes, String what) {
        Block b = create(Math.max(bytes, 16), what, true);
        pinnedByHost.put(b.base(), b);
        return MemorySegment.ofAddress(b.base()).reinterpret(bytes);
    }

    /** The buffer and offset of device address {@code address}, checked to hold {@code bytes}. */
    synchronized Slice device(long address, long bytes) {
        Slice s = find(byAddress, address, bytes);
        if (s == null) throw new IllegalArgumentException(String.format("device address 0x%x (+%d bytes) is not inside an allocation on %s", address, bytes, deviceId));
        return s;
    }

    /** The pinned buffer and offset behind host memory {@code seg}, or null when it is not pinned memory of this device. */
    synchronized Slice pinned(MemorySegment seg, long bytes) {
        return seg.isNative() ? find(pinnedByHost, seg.address(), bytes) : null;
    }

    private static Slice find(TreeMap<Long, Block> map, long address, long bytes) {
        Map.Entry<Long, Block> e = map.floorEntry(address);
        if (e == null || address + bytes > e.getKey() + e.getValue().size()) return null;
        return new Slice(e.getValue().buffer(), address - e.getKey());
    }

    /** Bytes the device-local heaps can still give (the driver's budget where VK_EXT_memory_budget is there, else VMA's own account). */
    synchronized long freeBytes() {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer pp = stack.mallocPointer(1);
            vmaGetMemoryProperties(allocator, pp);
            VkPhysicalDeviceMemoryProperties mp = VkPhysicalDeviceMemoryProperties.create(pp.get(0));
            VmaBudget.Buffer budgets = VmaBudget.calloc(VK_MAX_MEMORY_HEAPS, stack);
            vmaGetHeapBudgets(allocator, budgets);
            long free = 0, any = 0;
            for (int i = 0; i < mp.memoryHeapCount(); i++) {
                long left = Math.max(0, budgets.get(i).budget() - budgets.get(i).usage());
                any = Math.max(any, left);
                if ((mp.memoryHeaps(i).flags() & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0) free += left;
            }
            return free > 0 ? free : any;
        }
    }

    @Override
    public synchronized void close() {
        for (Block b : byAddress.values()) vmaDestroyBuffer(allocator, b.buffer(), b.allocation());
        for (Block b : pinnedByHost.values()) vmaDestroyBuffer(allocator, b.buffer(), b.allocation());
        byAddress.clear();
        pinnedByHost.clear();
        vmaDestroyAllocator(allocator);
    }
}
