package jmlc.engine.runtime.vulkan;

import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.kernel.Capabilities.MatrixUnit;
import jmlc.compiler.target.Target;
import jmlc.engine.runtime.DeviceInfo;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;
import org.lwjgl.vulkan.*;

import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.lwjgl.vulkan.VK11.*;
import static org.lwjgl.vulkan.VK12.*;
import static org.lwjgl.vulkan.VK13.*;

/**
 * What one Vulkan physical device offers, read once: the properties users see ({@code jmlc devices}),
 * whether jmlc's kernels can run on it (and if not, why), the {@link Target} the compiler generates
 * for, and the features and extensions {@link VulkanDevice} must enable.
 *
 * <p>The kernel ABI ({@code GlslEmitter}) needs Vulkan 1.2 with bufferDeviceAddress,
 * storageBuffer16BitAccess, timeline semaphores and subgroup shuffles in compute shaders;
 * shaderFloat16 is used where present (the target's f16 arithmetic), and the subgroup size is pinned
 * with subgroup size control (Vulkan 1.3 or VK_EXT_subgroup_size_control) where the device has it.
 */
record DeviceProbe(int index, DeviceInfo info, String unusable, boolean software, Target target, int apiVersion,
                   SizeControl sizeControl, boolean f16, boolean int16, boolean memoryBudget, boolean executableStatistics, int queueFamily,
                   float timestampPeriod, int timestampBits, long maxBufferBytes, long maxAllocationBytes, int maxPushConstants,
                   int[] maxGroups, byte[] pipelineCacheUuid, int warpsPerMultiprocessor, int registersPerMultiprocessor) {

    /** How the subgroup size of a pipeline is pinned. */
    enum SizeControl {
        /** Vulkan 1.3 core: required subgroup size and full subgroups */
        CORE,
        /** VK_EXT_subgroup_size_control on Vulkan 1.2 */
        EXTENSION,
        /** not at all: the device's one subgroup size (its min and max are equal, or it lacks the control) */
        NONE
    }

    static final String EXT_SUBGROUP_SIZE_CONTROL = "VK_EXT_subgroup_size_control";
    static final String EXT_MEMORY_BUDGET = "VK_EXT_memory_budget";
    static final String EXT_EXECUTABLE_PROPERTIES = "VK_KHR_pipeline_executable_properties";

    boolean usable() {
        return unusable.isEmpty();
    }

    static DeviceProbe probe(VkInstance instance, VkPhysicalDevice pd, int index) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            VkPhysicalDeviceProperties2 props2 = VkPhysicalDeviceProperties2.calloc(stack).sType$Default();
            VkPhysicalDeviceVulkan11Properties p11 = VkPhysicalDeviceVulkan11Properties.calloc(stack).sType$Default();
            VkPhysicalDeviceVulkan12Properties p12 = VkPhysicalDeviceVulkan12Properties.calloc(stack).sType$Default();
            VkPhysicalDeviceVulkan13Properties p13 = VkPhysicalDeviceVulkan13Properties.calloc(stack).sType$Default();
            VkPhysicalDeviceSubgroupSizeControlPropertiesEXT pSize = VkPhysicalDeviceSubgroupSizeControlPropertiesEXT.calloc(stack).sType$Default();
            VkPhysicalDeviceShaderSMBuiltinsPropertiesNV pSm = VkPhysicalDeviceShaderSMBuiltinsPropertiesNV.calloc(stack).sType$Default();
            VkPhysicalDeviceShaderCorePropertiesAMD pAmd = VkPhysicalDeviceShaderCorePropertiesAMD.calloc(stack).sType$Default();

            VkPhysicalDeviceProperties base = VkPhysicalDeviceProperties.calloc(stack);
            vkGetPhysicalDeviceProperties(pd, base);
            int api = base.apiVersion();
            String name = base.deviceNameString();
            String id = "vulkan:" + index;
            Set<String> ext = extensions(pd, stack);
            boolean v13 = VK_API_VERSION_MINOR(api) >= 3 || VK_API_VERSION_MAJOR(api) > 1;
            boolean v12 = v13 || VK_API_VERSION_MINOR(api) >= 2;
            boolean software = base.deviceType() == VK_PHYSICAL_DEVICE_TYPE_CPU;
            Map<String, String> p = new LinkedHashMap<>();
            p.put("type", deviceType(base.deviceType()));
            p.put("Vulkan", Vk.version(api));
            if (!v12) {
                p.put("driver version", Integer.toHexString(base.driverVersion()));
                return unusable(index, new DeviceInfo(id, "vulkan", name, p), software,
                        "its driver offers Vulkan " + Vk.version(api) + "; jmlc's kernels need Vulkan 1.2 (buffer device addresses, timeline semaphores)");
            }

            // properties: the 1.1/1.2 structs always, 1.3's or the extension's for subgroup size control, NV/AMD core counts where present
            List<Long> chain = new ArrayList<>(List.of(props2.address(), p11.address(), p12.address()));
            if (v13) chain.add(p13.address());
            else if (ext.contains(EXT_SUBGROUP_SIZE_CONTROL)) chain.add(pSize.address());
            if (ext.contains("VK_NV_shader_sm_builtins")) chain.add(pSm.address());
            if (ext.contains("VK_AMD_shader_core_properties")) chain.add(pAmd.address());
            link(chain);
            vkGetPhysicalDeviceProperties2(pd, props2);
            VkPhysicalDeviceLimits limits = props2.properties().limits();

            // features
            VkPhysicalDeviceFeatures2 f2 = VkPhysicalDeviceFeatures2.calloc(stack).sType$Default();
            VkPhysicalDeviceVulkan11Features f11 = VkPhysicalDeviceVulkan11Features.calloc(stack).sType$Default();
            VkPhysicalDeviceVulkan12Features f12 = VkPhysicalDeviceVulkan12Features.calloc(stack).sType$Default();
            VkPhysicalDeviceVulkan13Features f13 = VkPhysicalDeviceVulkan13Features.calloc(stack).sType$Default();
            VkPhysicalDeviceSubgroupSizeControlFeaturesEXT fSize = VkPhysicalDeviceSubgroupSizeControlFeaturesEXT.calloc(stack).sType$Default();
            VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR fExec = VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR.calloc(stack).sType$Default();
            VkPhysicalDeviceCooperativeMatrixFeaturesKHR fCoop = VkPhysicalDeviceCooperativeMatrixFeaturesKHR.calloc(stack).sType$Default();
            List<Long> features = new ArrayList<>(List.of(f2.address(), f11.address(), f12.address()));
            if (v13) features.add(f13.address());
            else if (ext.contains(EXT_SUBGROUP_SIZE_CONTROL)) features.add(fSize.address());
            if (ext.contains(EXT_EXECUTABLE_PROPERTIES)) features.add(fExec.address());
            if (ext.contains(EXT_COOPERATIVE_MATRIX)) features.add(fCoop.address());
            link(features);
            vkGetPhysicalDeviceFeatures2(pd, f2);
            boolean statistics = ext.contains(EXT_EXECUTABLE_PROPERTIES) && fExec.pipelineExecutableInfo();

            int minSg, maxSg, sizeStages, maxSubgroupsPerGroup;
            boolean sizeControl, fullSubgroups;
            if (v13) {
                minSg = p13.minSubgroupSize();
                maxSg = p13.maxSubgroupSize();
                sizeStages = p13.requiredSubgroupSizeStages();
                maxSubgroupsPerGroup = p13.maxComputeWorkgroupSubgroups();
                sizeControl = f13.subgroupSizeControl();
                fullSubgroups = f13.computeFullSubgroups();
            } else if (ext.contains(EXT_SUBGROUP_SIZE_CONTROL)) {
                minSg = pSize.minSubgroupSize();
                maxSg = pSize.maxSubgroupSize();
                sizeStages = pSize.requiredSubgroupSizeStages();
                maxSubgroupsPerGroup = pSize.maxComputeWorkgroupSubgroups();
                sizeControl = fSize.subgroupSizeControl();
                fullSubgroups = fSize.computeFullSubgroups();
            } else {
                minSg = maxSg = p11.subgroupSize();
                sizeStages = 0;
                maxSubgroupsPerGroup = Integer.MAX_VALUE;
                sizeControl = fullSubgroups = false;
            }
            boolean pinnable = sizeControl && fullSubgroups && (sizeStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
            SizeControl control = !pinnable ? SizeControl.NONE : v13 ? SizeControl.CORE : SizeControl.EXTENSION;
            // the subgroup size kernels are generated for: the device's default where it lies in the range it can pin
            int sg = pinnable ? Math.clamp(p11.subgroupSize(), minSg, maxSg) : p11.subgroupSize();

            boolean f16 = f12.shaderFloat16();
            int ops = p11.subgroupSupportedOperations();
            boolean shuffles = (p11.subgroupSupportedStages() & VK_SHADER_STAGE_COMPUTE_BIT) != 0
                    && (ops & VK_SUBGROUP_FEATURE_BASIC_BIT) != 0 && (ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT) != 0;
            List<String> coopShapes = ext.contains(EXT_COOPERATIVE_MATRIX) && fCoop.cooperativeMatrix() ? cooperativeShapes(pd, stack) : List.of();
            // the prefill GEMM's tiles: 16×16×16, f16 operands into f32, subgroup scope, in compute shaders (which needs f16 arithmetic)
            boolean coopOffered = coopShapes.contains(COOP_16X16X16) && f16 && cooperativeInCompute(pd, stack);
            boolean coopMatrix = coopOffered && !"0".equals(System.getenv("JMLC_VULKAN_COOPMAT"));
            boolean dot = v13 ? f13.shaderIntegerDotProduct() : ext.contains("VK_KHR_shader_integer_dot_product");

            p.put("driver", p12.driverNameString() + " " + p12.driverInfoString());
            p.put("subgroup size", sg + (minSg != maxSg ? " (of " + minSg + ".." + maxSg + ")" : "")
                    + (control == SizeControl.NONE && minSg != maxSg ? ", not pinned: the device lacks subgroup size control for compute" : ""));
            p.put("f16 arithmetic", yes(f16));
            p.put("16-bit storage", yes(f11.storageBuffer16BitAccess()));
            p.put("8-bit storage", f12.storageBuffer8BitAccess() ? "yes (int8 KV caches' bytes)" : "no (int8 KV caches reach bytes through 32-bit words)");
            boolean dotUsed = v13 && f13.shaderIntegerDotProduct() && control == SizeControl.CORE;
            p.put("integer dot product", !dot ? "no" : dotUsed ? "yes (the 8-bit GEMV's OpSDot)" : "yes; not used (jmlc enables it as a Vulkan 1.3 core feature)");
            p.put("cooperative matrix", coopShapes.isEmpty() ? "no"
                    : String.join(", ", coopShapes) + (coopMatrix ? "; " + COOP_16X16X16 + " used for prefill GEMMs"
                    : coopOffered ? "; not used (JMLC_VULKAN_COOPMAT=0)" : "; not used (jmlc's GEMM needs " + COOP_16X16X16 + " in compute shaders and f16 arithmetic)"));
            p.put("buffer device address", yes(f12.bufferDeviceAddress()));
            p.put("kernel statistics", statistics ? "yes (" + EXT_EXECUTABLE_PROPERTIES + ")" : "no");
            p.put("shared memory", limits.maxComputeSharedMemorySize() / 1024 + " KiB");
            p.put("max workgroup", Integer.toString(limits.maxComputeWorkGroupInvocations()));
            p.put("push constants", limits.maxPushConstantsSize() + " bytes");
            VkPhysicalDeviceMemoryProperties mem = VkPhysicalDeviceMemoryProperties.calloc(stack);
            vkGetPhysicalDeviceMemoryProperties(pd, mem);
            List<String> heaps = new ArrayList<>();
            for (int i = 0; i < mem.memoryHeapCount(); i++)
                heaps.add(String.format(Locale.ROOT, "%.1f GiB%s", mem.memoryHeaps(i).size() / (double) (1L << 30),
                        (mem.memoryHeaps(i).flags() & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0 ? " device-local" : " host"));
            p.put("memory heaps", String.join(", ", heaps));

            int smCount = ext.contains("VK_NV_shader_sm_builtins") ? pSm.shaderSMCount() : 0;
            int warpsPerSm = ext.contains("VK_NV_shader_sm_builtins") ? pSm.shaderWarpsPerSM() : 0;
            // NVIDIA's multiprocessors have had 64K 32-bit registers since Kepler; no Vulkan query gives the figure
            int registersPerSm = p12.driverID() == VK_DRIVER_ID_NVIDIA_PROPRIETARY && warpsPerSm > 0 ? 65536 : 0;
            if (smCount == 0 && ext.contains("VK_AMD_shader_core_properties"))
                smCount = pAmd.shaderEngineCount() * pAmd.shaderArraysPerEngineCount() * pAmd.computeUnitsPerShaderArray();
            // no portable count of compute units: grids are sized for an estimate (a CPU device: its cores)
            boolean estimated = smCount <= 0;
            if (estimated) smCount = software ? Runtime.getRuntime().availableProcessors() : 16;
            p.put("multiprocessors", smCount + (estimated ? " (estimated)" : ""));

            VkQueueFamilyProperties.Buffer fams = queueFamilies(pd, stack);
            int queueFamily = computeQueue(fams);
            int tsBits = queueFamily < 0 ? 0 : fams.get(queueFamily).timestampValidBits();
            if (queueFamily >= 0) p.put("queue", describeQueue(queueFamily, fams.get(queueFamily).queueFlags()));
            DeviceInfo info = new DeviceInfo(id, "vulkan", name, p);

            List<String> missing = new ArrayList<>();
            if (!f12.bufferDeviceAddress()) missing.add("bufferDeviceAddress");
            if (!f11.storageBuffer16BitAccess()) missing.add("storageBuffer16BitAccess");
            if (!f12.timelineSemaphore()) missing.add("timelineSemaphore");
            if (!shuffles) missing.add("subgroup shuffles in compute shaders");
            if (queueFamily < 0) missing.add("a compute queue");
            if (!missing.isEmpty())
                return unusable(index, info, software, "it lacks " + String.join(", ", missing) + ", which jmlc's kernels need");

            int maxThreads = Math.min(limits.maxComputeWorkGroupInvocations(), limits.maxComputeWorkGroupSize(0));
            if (control != SizeControl.NONE) maxThreads = (int) Math.min(maxThreads, (long) maxSubgroupsPerGroup * sg);
            // integer dot products where Vulkan 1.3 has them as a core feature (the device then enables it with subgroup size control)
            Capabilities caps = new Capabilities(sg, maxThreads, limits.maxComputeSharedMemorySize(), smCount, f16, coopMatrix ? MatrixUnit.COOPERATIVE_16X16X16 : MatrixUnit.NONE, false, false, false)
                    .withDot4(dotUsed).withStorage8(f12.storageBuffer8BitAccess());
            long maxBuffer = v13 ? p13.maxBufferSize() : Long.MAX_VALUE;
            long maxAlloc = p11.maxMemoryAllocationSize();
            int[] groups = {limits.maxComputeWorkGroupCount(0), limits.maxComputeWorkGroupCount(1), limits.maxComputeWorkGroupCount(2)};
            byte[] uuid = new byte[VK_UUID_SIZE];
            props2.properties().pipelineCacheUUID().get(uuid);
            return new DeviceProbe(index, info, "", software, Target.vulkan(arch(name), caps), api, control, f16,
                    f2.features().shaderInt16(), ext.contains(EXT_MEMORY_BUDGET), statistics, queueFamily, limits.timestampPeriod(), tsBits,
                    maxBuffer, maxAlloc, limits.maxPushConstantsSize(), groups, uuid, warpsPerSm, registersPerSm);
        }
    }

    static final String EXT_COOPERATIVE_MATRIX = "VK_KHR_cooperative_matrix";
    /** The one shape jmlc's GEMM uses, as {@link #cooperativeShapes} names shapes. */
    static final String COOP_16X16X16 = "16x16x16 f16*f16+f32";

    /**
     * The subgroup-scope shapes the device's cooperative matrices offer ({@code MxNxK A*B+C}, as
     * {@code vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR} lists them, result type C's).
     */
    private static List<String> cooperativeShapes(VkPhysicalDevice pd, MemoryStack stack) {
        IntBuffer n = stack.mallocInt(1);
        if (KHRCooperativeMatrix.vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR(pd, n, null) != VK_SUCCESS || n.get(0) == 0) return List.of();
        try (VkCooperativeMatrixPropertiesKHR.Buffer list = VkCooperativeMatrixPropertiesKHR.calloc(n.get(0))) {
            for (int i = 0; i < list.capacity(); i++) list.get(i).sType$Default();
            if (KHRCooperativeMatrix.vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR(pd, n, list) != VK_SUCCESS) return List.of();
            List<String> out = new ArrayList<>();
            for (int i = 0; i < n.get(0); i++) {
                VkCooperativeMatrixPropertiesKHR m = list.get(i);
                if (m.scope() != KHRCooperativeMatrix.VK_SCOPE_SUBGROUP_KHR || m.CType() != m.ResultType()) continue;
                String shape = m.MSize() + "x" + m.NSize() + "x" + m.KSize() + " " + component(m.AType()) + "*" + component(m.BType()) + "+" + component(m.CType());
                if (!out.contains(shape)) out.add(shape);
            }
            return out;
        }
    }

    /** Whether the device's cooperative matrices work in compute shaders. */
    private static boolean cooperativeInCompute(VkPhysicalDevice pd, MemoryStack stack) {
        VkPhysicalDeviceCooperativeMatrixPropertiesKHR p = VkPhysicalDeviceCooperativeMatrixPropertiesKHR.calloc(stack).sType$Default();
        VkPhysicalDeviceProperties2 props = VkPhysicalDeviceProperties2.calloc(stack).sType$Default().pNext(p.address());
        vkGetPhysicalDeviceProperties2(pd, props);
        return (p.cooperativeMatrixSupportedStages() & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
    }

    private static String component(int type) {
        return switch (type) {
            case KHRCooperativeMatrix.VK_COMPONENT_TYPE_FLOAT16_KHR -> "f16";
            case KHRCooperativeMatrix.VK_COMPONENT_TYPE_FLOAT32_KHR -> "f32";
            case KHRCooperativeMatrix.VK_COMPONENT_TYPE_SINT8_KHR -> "s8";
            case KHRCooperativeMatrix.VK_COMPONENT_TYPE_UINT8_KHR -> "u8";
            case KHRCooperativeMatrix.VK_COMPONENT_TYPE_SINT32_KHR -> "s32";
            case KHRCooperativeMatrix.VK_COMPONENT_TYPE_UINT32_KHR -> "u32";
            default -> "type" + type;
        };
    }

    /** Chains Vulkan structs through their pNext fields (every one starts with sType, then pNext at offset 8). */
    static void link(List<Long> structs) {
        for (int i = 0; i < structs.size(); i++)
            MemoryUtil.memPutAddress(structs.get(i) + 8, i + 1 < structs.size() ? structs.get(i + 1) : 0L);
    }

    private static DeviceProbe unusable(int index, DeviceInfo info, boolean software, String why) {
        return new DeviceProbe(index, info, why, software, null, 0, SizeControl.NONE, false, false, false, false, -1, 0, 0, 0, 0, 0, null, null, 0, 0);
    }

    /** A target name from the device's: lowercase words and digits ({@code NVIDIA H200} -> {@code nvidia_h200}). */
    static String arch(String deviceName) {
        String s = deviceName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_").replaceAll("^_+|_+$", "");
        return s.isEmpty() ? "device" : s;
    }

    private static Set<String> extensions(VkPhysicalDevice pd, MemoryStack stack) {
        IntBuffer n = stack.mallocInt(1);
        Vk.check(vkEnumerateDeviceExtensionProperties(pd, (String) null, n, null), "vkEnumerateDeviceExtensionProperties");
        // on the heap: 260 bytes each, and NVIDIA's driver lists about 250 (65 KB, past LWJGL's 64 KB thread stack)
        try (VkExtensionProperties.Buffer list = VkExtensionProperties.malloc(n.get(0))) {
            Vk.check(vkEnumerateDeviceExtensionProperties(pd, (String) null, n, list), "vkEnumerateDeviceExtensionProperties");
            Set<String> out = new HashSet<>();
            for (int i = 0; i < n.get(0); i++) out.add(list.get(i).extensionNameString());
            return out;
        }
    }

    /** The device's queue families, as the driver lists them. */
    private static VkQueueFamilyProperties.Buffer queueFamilies(VkPhysicalDevice pd, MemoryStack stack) {
        IntBuffer n = stack.mallocInt(1);
        vkGetPhysicalDeviceQueueFamilyProperties(pd, n, null);
        VkQueueFamilyProperties.Buffer fams = VkQueueFamilyProperties.malloc(n.get(0), stack);
        vkGetPhysicalDeviceQueueFamilyProperties(pd, n, fams);
        return fams;
    }

    /** The queue family jmlc submits to ({@link #chooseQueue}); -1 if none runs compute. */
    private static int computeQueue(VkQueueFamilyProperties.Buffer fams) {
        int[] flags = new int[fams.capacity()], timestampBits = new int[fams.capacity()];
        for (int i = 0; i < flags.length; i++) {
            flags[i] = fams.get(i).queueFlags();
            timestampBits[i] = fams.get(i).timestampValidBits();
        }
        return chooseQueue(flags, timestampBits);
    }

    /**
     * Of queue families with these {@code VkQueueFlags} and timestamp bits: the first that runs
     * compute without graphics (a driver's "async compute" family) and writes timestamps, else the
     * first that runs compute and writes timestamps, else the first that runs compute; -1 if none.
     * A compute-only queue because dependent dispatches cost less there: on the H200 (NVIDIA 580,
     * 2026-12-04) the captured 7B decode step took 1.949 ms on family 2 (compute, transfer) against
     * 1.972 on family 0 (graphics, compute, transfer), two runs each alternating.
     */
    static int chooseQueue(int[] flags, int[] timestampBits) {
        int timed = -1, any = -1;
        for (int i = 0; i < flags.length; i++) {
            if ((flags[i] & VK_QUEUE_COMPUTE_BIT) == 0) continue;
            if (timestampBits[i] > 0 && (flags[i] & VK_QUEUE_GRAPHICS_BIT) == 0) return i;
            if (timestampBits[i] > 0 && timed < 0) timed = i;
            if (any < 0) any = i;
        }
        return timed >= 0 ? timed : any;
    }

    /** "family N (compute, transfer)": which queue family, and what else it runs ({@code VkQueueFlags} {@code f}). */
    private static String describeQueue(int family, int f) {
        List<String> runs = new ArrayList<>();
        if ((f & VK_QUEUE_GRAPHICS_BIT) != 0) runs.add("graphics");
        if ((f & VK_QUEUE_COMPUTE_BIT) != 0) runs.add("compute");
        if ((f & VK_QUEUE_TRANSFER_BIT) != 0) runs.add("transfer");
        return "family " + family + " (" + String.join(", ", runs) + ")" + ((f & VK_QUEUE_GRAPHICS_BIT) == 0 ? ", compute-only" : "");
    }

    private static String deviceType(int t) {
        return switch (t) {
            case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU -> "discrete GPU";
            case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU -> "integrated GPU";
            case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU -> "virtual GPU";
            case VK_PHYSICAL_DEVICE_TYPE_CPU -> "CPU (software)";
            default -> "other";
        };
    }

    private static String yes(boolean b) {
        return b ? "yes" : "no";
    }
}
