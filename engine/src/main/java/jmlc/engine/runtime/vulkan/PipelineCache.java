package jmlc.engine.runtime.vulkan;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;
import org.lwjgl.vulkan.VkDevice;
import org.lwjgl.vulkan.VkPipelineCacheCreateInfo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HexFormat;

import static org.lwjgl.vulkan.VK10.*;

/**
 * The driver's pipeline cache (its compiled machine code for our SPIR-V) kept on disk between runs,
 * one file per device model and driver build ({@code pipelineCacheUUID}) under
 * {@code $JMLC_CACHE/kernels/vulkan-pipelines} (default {@code ~/.cache/jmlc}): a second load of a
 * model skips the driver's compiler. Drivers check the data's header and ignore data not theirs.
 */
final class PipelineCache implements AutoCloseable {
    private final VkDevice device;
    private final long handle;
    private final Path file;

    PipelineCache(VkDevice device, DeviceProbe probe) {
        this.device = device;
        String base = System.getenv("JMLC_CACHE");
        this.file = (base != null ? Path.of(base) : Path.of(System.getProperty("user.home"), ".cache", "jmlc"))
                .resolve("kernels").resolve("vulkan-pipelines").resolve(probe.target().arch() + "-" + HexFormat.of().formatHex(probe.pipelineCacheUuid()) + ".bin");
        byte[] data = null;
        try {
            if (Files.exists(file)) data = Files.readAllBytes(file);
        } catch (IOException e) {
            // no cache: the driver compiles
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkPipelineCacheCreateInfo ci = VkPipelineCacheCreateInfo.calloc(stack).sType$Default();
            ByteBuffer initial = null;
            if (data != null && data.length > 0) {
                initial = MemoryUtil.memAlloc(data.length).put(data).flip();
                ci.pInitialData(initial);
            }
            LongBuffer p = stack.mallocLong(1);
            try {
                Vk.check(vkCreatePipelineCache(device, ci, null, p), "vkCreatePipelineCache");
            } finally {
                if (initial != null) MemoryUtil.memFree(initial);
            }
            this.handle = p.get(0);
        }
    }

    long handle() {
        return handle;
    }

    /** Writes the cache back (atomically: another process may be reading it), then destroys it. */
    @Override
    public void close() {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            if (vkGetPipelineCacheData(device, handle, size, null) == VK_SUCCESS && size.get(0) > 0) {
                ByteBuffer data = MemoryUtil.memAlloc((int) size.get(0));
                try {
                    if (vkGetPipelineCacheData(device, handle, size, data) == VK_SUCCESS) {
                        byte[] bytes = new byte[(int) size.get(0)];
                        data.get(0, bytes);
                        Files.createDirectories(file.getParent());
                        Path tmp = Files.createTempFile(file.getParent(), "pipelines", ".tmp");
                        Files.write(tmp, bytes);
                        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    }
                } catch (IOException e) {
                    // a read-only home still runs, just without the cache
                } finally {
                    MemoryUtil.memFree(data);
                }
            }
        }
        vkDestroyPipelineCache(device, handle, null);
    }
}
