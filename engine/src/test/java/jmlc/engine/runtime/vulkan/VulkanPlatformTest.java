package jmlc.engine.runtime.vulkan;

import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.target.Target;
import jmlc.engine.runtime.DeviceInfo;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Which Vulkan devices detection lists, which a name reaches, and what it says about the rest: a GPU
 * is listed (so {@code auto} may pick it), a CPU implementation only named, a device lacking a
 * feature explained; and detection on this machine never throws.
 */
class VulkanPlatformTest {
    static DeviceProbe probe(int i, String name, boolean software, String unusable) {
        DeviceInfo info = new DeviceInfo("vulkan:" + i, "vulkan", name, Map.of("driver", "test driver"));
        if (!unusable.isEmpty())
            return new DeviceProbe(i, info, unusable, software, null, 0, DeviceProbe.SizeControl.NONE, false, false, false, false, -1, 0, 0, 0, 0, 0, null, null, 0, 0);
        Target t = Target.vulkan(DeviceProbe.arch(name), new Capabilities(32, 1024, 32768, 8, true, Capabilities.MatrixUnit.NONE, false, false, false));
        return new DeviceProbe(i, info, "", software, t, 0, DeviceProbe.SizeControl.CORE, true, true, false, false, 0, 1, 64, 1L << 40, 1L << 40, 256, new int[] {65535, 65535, 65535}, new byte[16], 0, 0);
    }

    /** VkQueueFlags bits: graphics 1, compute 2, transfer 4. */
    @Test
    void aComputeOnlyQueueIsPreferredWhenItWritesTimestamps() {
        // NVIDIA's families: 0 graphics+compute+transfer, 1 transfer, 2 compute+transfer (all timed)
        assertEquals(2, DeviceProbe.chooseQueue(new int[] {7, 4, 6}, new int[] {64, 64, 64}));
        // a compute-only family without timestamps loses to a timed graphics+compute one
        assertEquals(0, DeviceProbe.chooseQueue(new int[] {7, 6}, new int[] {64, 0}));
        // lavapipe: one family for everything
        assertEquals(0, DeviceProbe.chooseQueue(new int[] {7}, new int[] {64}));
        // no timestamps anywhere: the first compute family; none runs compute: -1
        assertEquals(1, DeviceProbe.chooseQueue(new int[] {4, 3, 2}, new int[] {0, 0, 0}));
        assertEquals(-1, DeviceProbe.chooseQueue(new int[] {4, 1}, new int[] {64, 64}));
    }

    @Test
    void gpusAreListedCpuImplementationsOnlyNamedAndUnusableDevicesExplained() {
        VulkanPlatform p = new VulkanPlatform(new VulkanPlatform.Detection(List.of(
                probe(0, "llvmpipe (LLVM 15.0.6, 256 bits)", true, ""),
                probe(1, "Old GPU", false, "it lacks bufferDeviceAddress, which jmlc's kernels need"),
                probe(2, "NVIDIA H200", false, "")), ""));
        assertEquals(List.of("vulkan:2"), p.detect().stream().map(DeviceInfo::id).toList(), "auto may pick only the GPU");
        assertEquals("vulkan:2", p.named("vulkan").orElseThrow().id(), "the backend's name prefers a GPU");
        assertEquals("vulkan:0", p.named("vulkan:0").orElseThrow().id(), "a CPU implementation runs when named");
        assertTrue(p.named("vulkan:1").isEmpty(), "an unusable device cannot be named");
        String why = p.unavailable();
        assertTrue(why.contains("vulkan:1 (Old GPU) cannot run jmlc: it lacks bufferDeviceAddress"), why);
        assertTrue(why.contains("vulkan:0 (llvmpipe (LLVM 15.0.6, 256 bits)) is Vulkan on the CPU") && why.contains("--device vulkan:0"), why);
        var e = assertThrows(jmlc.engine.runtime.gpu.GpuException.class, () -> p.probe("vulkan:1"));
        assertTrue(e.getMessage().contains("lacks bufferDeviceAddress"), e.getMessage());
    }

    @Test
    void theBackendsNameReachesACpuImplementationWhenItIsTheOnlyDevice() {
        VulkanPlatform p = new VulkanPlatform(new VulkanPlatform.Detection(List.of(probe(0, "llvmpipe", true, "")), ""));
        assertTrue(p.detect().isEmpty());
        assertEquals("vulkan:0", p.named("vulkan").orElseThrow().id());
    }

    /**
     * Probing takes little of the thread's LWJGL stack (64 KB): NVIDIA's driver lists about 250 device
     * extensions (65 KB of VkExtensionProperties), which on that stack failed every probe on the H200
     * ("Out of stack space"). Here probing must work in the 16 KB left (lavapipe lists about 100, 26 KB).
     */
    @Test
    void probingNeedsLittleOfTheThreadsLwjglStack() {
        VulkanTestDevice.require();
        org.lwjgl.vulkan.VkInstance instance = Vk.acquire();
        try (org.lwjgl.system.MemoryStack stack = org.lwjgl.system.MemoryStack.stackPush()) {
            var pd = Vk.physicalDevices(instance).getFirst();
            stack.malloc(stack.getPointer() - 6 * 1024);
            DeviceProbe p = DeviceProbe.probe(instance, pd, 0);
            assertTrue(p.usable(), p.unusable());
        } finally {
            Vk.release();
        }
    }

    @Test
    void noLoaderOrDriverIsAReasonNotAnException() {
        VulkanPlatform p = new VulkanPlatform(new VulkanPlatform.Detection(List.of(), "the Vulkan loader (libvulkan.so.1) could not be loaded: x"));
        assertTrue(p.detect().isEmpty());
        assertTrue(p.named("vulkan").isEmpty());
        assertTrue(p.unavailable().startsWith("the Vulkan loader (libvulkan.so.1) could not be loaded"));
        assertThrows(jmlc.engine.runtime.gpu.GpuException.class, () -> p.probe("vulkan:0"));
        // and this machine's real detection never throws, whatever it finds
        VulkanPlatform real = new VulkanPlatform();
        assertDoesNotThrow(real::detect);
        assertTrue(!real.detect().isEmpty() || !real.unavailable().isEmpty(), "found devices, or says why not");
    }

    @Test
    void targetNamesComeFromDeviceNames() {
        assertEquals("nvidia_h200", DeviceProbe.arch("NVIDIA H200"));
        assertEquals("llvmpipe_llvm_15_0_6_256_bits", DeviceProbe.arch("llvmpipe (LLVM 15.0.6, 256 bits)"));
        assertEquals("amd_radeon_graphics_radv_vangogh", DeviceProbe.arch("AMD Radeon Graphics (RADV VANGOGH)"));
        assertEquals("device", DeviceProbe.arch("()"));
    }
}
