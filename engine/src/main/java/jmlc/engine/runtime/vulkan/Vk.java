package jmlc.engine.runtime.vulkan;

import jmlc.engine.runtime.gpu.GpuException;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.Configuration;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VK;
import org.lwjgl.vulkan.VkApplicationInfo;
import org.lwjgl.vulkan.VkInstance;
import org.lwjgl.vulkan.VkInstanceCreateInfo;
import org.lwjgl.vulkan.VkPhysicalDevice;

import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.lwjgl.vulkan.VK13.*;

/** Loading the Vulkan loader once, and Vulkan status codes as exceptions with their names. */
final class Vk {
    private Vk() {}

    /**
     * Why the Vulkan loader (libvulkan.so.1) could not be loaded, or null when it was. LWJGL would
     * load it in VK's static initializer and fail with an ExceptionInInitializerError that poisons
     * the class; loading it explicitly, once, keeps the reason.
     */
    private static final String LOADER_ERROR;

    static {
        String error = null;
        try {
            Configuration.VULKAN_EXPLICIT_INIT.set(true);
            VK.create();
        } catch (Throwable t) {
            Throwable root = t;
            while (root.getCause() != null) root = root.getCause();
            error = "the Vulkan loader (libvulkan.so.1) could not be loaded: " + (root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName())
                    + " (Debian/Ubuntu: apt-get install libvulkan1, plus a driver: NVIDIA's, or mesa-vulkan-drivers)";
        }
        LOADER_ERROR = error;
    }

    /** Empty when the loader is usable, else why not. */
    static String loaderError() {
        return LOADER_ERROR == null ? "" : LOADER_ERROR;
    }

    static void requireLoader() {
        if (LOADER_ERROR != null) throw new GpuException(LOADER_ERROR);
    }

    private static VkInstance shared;
    /** Probes and devices holding {@link #shared}; it is destroyed when the last lets go. */
    private static int holders;
    /** Instances made in this process so far. */
    private static int made;

    /**
     * The process's Vulkan instance, shared by every probe and device that holds it, made by the
     * first and destroyed when the last lets go ({@link #release}). Not kept until the process
     * ends: NVIDIA's driver (580.159.04, H200, 2026-12-04) crashes the process in its exit handlers
     * (SIGSEGV in a driver thread) when an instance is alive at exit, even one destroyed in a shutdown
     * hook. The same driver refuses vkCreateInstance (VK_ERROR_INCOMPATIBLE_DRIVER) after a few dozen
     * instances were made and destroyed in one process: a long run that opens devices again and again
     * keeps one held between them (the GPU suite does).
     */
    static synchronized VkInstance acquire() {
        if (shared == null) {
            try {
                shared = createInstance();
            } catch (GpuException e) {
                if (made == 0) throw e;
                throw new GpuException(e.getMessage() + " (this process made and destroyed " + made + " Vulkan instances before:"
                        + " NVIDIA's driver refuses new ones after a few dozen; restart the process, or keep a device open between loads)");
            }
            made++;
        }
        holders++;
        return shared;
    }

    /** Lets go of the instance {@link #acquire} gave; the last holder destroys it. */
    static synchronized void release() {
        if (holders <= 0) throw new IllegalStateException("the Vulkan instance was released more often than acquired");
        if (--holders == 0) {
            vkDestroyInstance(shared, null);
            shared = null;
        }
    }

    /**
     * A Vulkan instance for Vulkan 1.3 where the loader has it (1.2 otherwise: every device jmlc
     * can use has 1.2; a device's own version still limits what it offers).
     */
    private static VkInstance createInstance() {
        requireLoader();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            int api = VK.getInstanceVersionSupported() >= VK_API_VERSION_1_3 ? VK_API_VERSION_1_3 : VK_API_VERSION_1_2;
            VkApplicationInfo app = VkApplicationInfo.calloc(stack).sType$Default()
                    .pApplicationName(stack.UTF8("jmlc")).pEngineName(stack.UTF8("jmlc")).apiVersion(api);
            VkInstanceCreateInfo ci = VkInstanceCreateInfo.calloc(stack).sType$Default().pApplicationInfo(app);
            PointerBuffer p = stack.mallocPointer(1);
            check(vkCreateInstance(ci, null, p), "vkCreateInstance");
            return new VkInstance(p.get(0), ci);
        }
    }

    /** The instance's physical devices, in the loader's order (the N of vulkan:N). */
    static List<VkPhysicalDevice> physicalDevices(VkInstance instance) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer n = stack.mallocInt(1);
            check(vkEnumeratePhysicalDevices(instance, n, null), "vkEnumeratePhysicalDevices");
            PointerBuffer list = stack.mallocPointer(n.get(0));
            check(vkEnumeratePhysicalDevices(instance, n, list), "vkEnumeratePhysicalDevices");
            List<VkPhysicalDevice> out = new ArrayList<>();
            for (int i = 0; i < n.get(0); i++) out.add(new VkPhysicalDevice(list.get(i), instance));
            return out;
        }
    }

    /** Throws a {@link GpuException} naming {@code call} and the status when {@code result} is not VK_SUCCESS. */
    static void check(int result, String call) {
        if (result != VK_SUCCESS) throw new GpuException(call + " failed: " + name(result));
    }

    static String name(int result) {
        return switch (result) {
            case VK_SUCCESS -> "VK_SUCCESS";
            case VK_NOT_READY -> "VK_NOT_READY";
            case VK_TIMEOUT -> "VK_TIMEOUT";
            case VK_INCOMPLETE -> "VK_INCOMPLETE";
            case VK_ERROR_OUT_OF_HOST_MEMORY -> "VK_ERROR_OUT_OF_HOST_MEMORY";
            case VK_ERROR_OUT_OF_DEVICE_MEMORY -> "VK_ERROR_OUT_OF_DEVICE_MEMORY";
            case VK_ERROR_INITIALIZATION_FAILED -> "VK_ERROR_INITIALIZATION_FAILED";
            case VK_ERROR_DEVICE_LOST -> "VK_ERROR_DEVICE_LOST (the device stopped: a kernel faulted or ran too long)";
            case VK_ERROR_MEMORY_MAP_FAILED -> "VK_ERROR_MEMORY_MAP_FAILED";
            case VK_ERROR_LAYER_NOT_PRESENT -> "VK_ERROR_LAYER_NOT_PRESENT";
            case VK_ERROR_EXTENSION_NOT_PRESENT -> "VK_ERROR_EXTENSION_NOT_PRESENT";
            case VK_ERROR_FEATURE_NOT_PRESENT -> "VK_ERROR_FEATURE_NOT_PRESENT";
            case VK_ERROR_INCOMPATIBLE_DRIVER -> "VK_ERROR_INCOMPATIBLE_DRIVER";
            case VK_ERROR_TOO_MANY_OBJECTS -> "VK_ERROR_TOO_MANY_OBJECTS";
            case VK_ERROR_FORMAT_NOT_SUPPORTED -> "VK_ERROR_FORMAT_NOT_SUPPORTED";
            case VK_ERROR_FRAGMENTED_POOL -> "VK_ERROR_FRAGMENTED_POOL";
            case VK_ERROR_UNKNOWN -> "VK_ERROR_UNKNOWN";
            default -> "VkResult " + result;
        };
    }

    static boolean outOfMemory(int result) {
        return result == VK_ERROR_OUT_OF_DEVICE_MEMORY || result == VK_ERROR_OUT_OF_HOST_MEMORY;
    }

    /** {@code 1.3.230} from a packed Vulkan version. */
    static String version(int v) {
        return VK_API_VERSION_MAJOR(v) + "." + VK_API_VERSION_MINOR(v) + "." + VK_API_VERSION_PATCH(v);
    }
}
