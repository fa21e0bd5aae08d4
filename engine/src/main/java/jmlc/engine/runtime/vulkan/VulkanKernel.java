package jmlc.engine.runtime.vulkan;

import jmlc.compiler.codegen.GlslEmitter;
import jmlc.compiler.kernel.Kernel;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.GpuException;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;
import org.lwjgl.vulkan.*;

import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.lwjgl.vulkan.KHRPipelineExecutableProperties.*;
import static org.lwjgl.vulkan.VK13.*;

/**
 * A kernel as a Vulkan compute pipeline: its SPIR-V module, a pipeline layout of one push-constant
 * range (8 bytes per buffer address, 4 per scalar: GlslEmitter's ABI) and no descriptor sets, and
 * the pipeline, made with the target's subgroup size required and, where the workgroup's x size
 * is a multiple of it, full subgroups (so subgroup shuffles see the lanes the kernel IR means).
 * The kernel's open knobs ({@code Expr.Knob}) are the pipeline's specialization constants.
 * Where the driver has VK_KHR_pipeline_executable_properties, the pipeline keeps the compiler's
 * statistics (NVIDIA's: registers, binary size, stack, shared memory), and on NVIDIA's driver the
 * blocks a multiprocessor holds follow from its registers ({@link #blocksPerMultiprocessor()}).
 */
record VulkanKernel(Kernel kernel, long layout, long pipeline, int pushBytes, Map<String, String> statistics, int blocksPerMultiprocessor,
                    int multiprocessors)
        implements GpuDevice.LoadedKernel {

    /**
     * The kernel's open knob values ({@code GlslEmitter.specializationConstants}) as the pipeline's
     * specialization: constant {@code i} is the i-th, 4 bytes at offset 4i; null if it has none.
     * Every pipeline is specialized, since its SPIR-V may have been compiled from a kernel with other values.
     */
    static VkSpecializationInfo specialization(Kernel kernel, DeviceProbe probe, MemoryStack stack) {
        var knobs = new GlslEmitter(probe.target().caps()).specializationConstants(kernel);
        if (knobs.isEmpty()) return null;
        VkSpecializationMapEntry.Buffer entries = VkSpecializationMapEntry.calloc(knobs.size(), stack);
        ByteBuffer data = stack.malloc(4 * knobs.size());
        int i = 0;
        for (int v : knobs.values()) {
            entries.get(i).constantID(i).offset(4 * i).size(4);
            data.putInt(4 * i, v);
            i++;
        }
        return VkSpecializationInfo.calloc(stack).pMapEntries(entries).pData(data);
    }

    static VulkanKernel create(VkDevice device, long pipelineCache, Kernel kernel, byte[] spv, DeviceProbe probe) {
        int push = 8 * kernel.buffers().size() + 4 * kernel.scalars().size();
        if (push > probe.maxPushConstants())
            throw new GpuException("kernel " + kernel.name() + " passes " + push + " bytes of arguments (" + kernel.buffers().size() + " buffers, "
                    + kernel.scalars().size() + " scalars); " + probe.info() + " allows " + probe.maxPushConstants() + " bytes of push constants");
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer p = stack.mallocLong(1);
            // the SPIR-V on the heap: an unrolled candidate's passes LWJGL's 64 KB thread stack
            ByteBuffer code = MemoryUtil.memAlloc(spv.length).put(spv).flip();
            try {
                Vk.check(vkCreateShaderModule(device, VkShaderModuleCreateInfo.calloc(stack).sType$Default().pCode(code), null, p),
                        "vkCreateShaderModule(" + kernel.name() + ")");
            } finally {
                MemoryUtil.memFree(code);
            }
            long module = p.get(0);
            try {
                VkPipelineLayoutCreateInfo lci = VkPipelineLayoutCreateInfo.calloc(stack).sType$Default();
                if (push > 0) lci.pPushConstantRanges(VkPushConstantRange.calloc(1, stack).stageFlags(VK_SHADER_STAGE_COMPUTE_BIT).offset(0).size(push));
                Vk.check(vkCreatePipelineLayout(device, lci, null, p), "vkCreatePipelineLayout(" + kernel.name() + ")");
                long layout = p.get(0);
                VkPipelineShaderStageCreateInfo stage = VkPipelineShaderStageCreateInfo.calloc(stack).sType$Default()
                        .stage(VK_SHADER_STAGE_COMPUTE_BIT).module(module).pName(stack.UTF8("main"));
                VkSpecializationInfo special = specialization(kernel, probe, stack);
                if (special != null) stage.pSpecializationInfo(special);
                int sg = probe.target().warpSize();
                if (probe.sizeControl() != DeviceProbe.SizeControl.NONE) {
                    // LWJGL 3.3.6 generates no setter for requiredSubgroupSize (it marks the member as returned): written at its offset
                    VkPipelineShaderStageRequiredSubgroupSizeCreateInfo required = VkPipelineShaderStageRequiredSubgroupSizeCreateInfo.calloc(stack).sType$Default();
                    MemoryUtil.memPutInt(required.address() + VkPipelineShaderStageRequiredSubgroupSizeCreateInfo.REQUIREDSUBGROUPSIZE, sg);
                    stage.pNext(required.address());
                    if (kernel.block()[0] % sg == 0) stage.flags(VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT);
                }
                VkComputePipelineCreateInfo.Buffer ci = VkComputePipelineCreateInfo.calloc(1, stack).sType$Default().stage(stage).layout(layout)
                        .flags(probe.executableStatistics() ? VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR : 0);
                int r = vkCreateComputePipelines(device, pipelineCache, ci, null, p);
                if (r != VK_SUCCESS) {
                    vkDestroyPipelineLayout(device, layout, null);
                    throw new GpuException("kernel " + kernel.name() + ": the driver could not make its compute pipeline (vkCreateComputePipelines: " + Vk.name(r) + ")");
                }
                long pipeline = p.get(0);
                Map<String, String> stats = probe.executableStatistics() ? statistics(device, pipeline) : new LinkedHashMap<>();
                int perSm = blocksPerMultiprocessor(registers(stats), kernel.threadsPerBlock(), sg, probe.warpsPerMultiprocessor(), probe.registersPerMultiprocessor());
                if (perSm > 0) stats.put("blocks an SM", Integer.toString(perSm));
                return new VulkanKernel(kernel, layout, pipeline, push, java.util.Collections.unmodifiableMap(stats), perSm, probe.target().caps().multiprocessors());
            } finally {
                vkDestroyShaderModule(device, module, null);
            }
        }
    }

    /**
     * The compute executable's statistics as the driver names them (registers, instructions, spills,
     * ... : each driver has its own set), in its order; empty if the driver reports none.
     */
    private static Map<String, String> statistics(VkDevice device, long pipeline) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer n = stack.mallocInt(1);
            VkPipelineExecutableInfoKHR exe = VkPipelineExecutableInfoKHR.calloc(stack).sType$Default().pipeline(pipeline).executableIndex(0);
            if (vkGetPipelineExecutableStatisticsKHR(device, exe, n, null) != VK_SUCCESS || n.get(0) == 0) return new LinkedHashMap<>();
            // on the heap: each statistic carries two fixed strings (over 500 bytes)
            try (VkPipelineExecutableStatisticKHR.Buffer stats = VkPipelineExecutableStatisticKHR.calloc(n.get(0))) {
                for (int i = 0; i < stats.capacity(); i++) stats.get(i).sType$Default();
                int r = vkGetPipelineExecutableStatisticsKHR(device, exe, n, stats);
                if (r != VK_SUCCESS && r != VK_INCOMPLETE) return new LinkedHashMap<>();
                Map<String, String> out = new LinkedHashMap<>();
                for (int i = 0; i < n.get(0); i++) {
                    VkPipelineExecutableStatisticKHR st = stats.get(i);
                    VkPipelineExecutableStatisticValueKHR v = st.value();
                    out.put(st.nameString(), switch (st.format()) {
                        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR -> Boolean.toString(v.b32());
                        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR -> Long.toString(v.i64());
                        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR -> Long.toUnsignedString(v.u64());
                        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_FLOAT64_KHR -> Double.toString(v.f64());
                        default -> "?";
                    });
                }
                return out;
            }
        }
    }

    /** Registers a thread as NVIDIA's driver reports them ("Register Count"); 0 where the driver names none. */
    static int registers(Map<String, String> stats) {
        String r = stats.get("Register Count");
        try {
            return r == null ? 0 : Integer.parseInt(r);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * Blocks of {@code threads} threads with {@code registers} registers each that one NVIDIA multiprocessor
     * holds: its register file split over four schedulers, each warp's registers allocated 8 a thread and
     * 256 a warp at a time, and at most {@code warpsPerSm} warps (the CUDA occupancy calculator's rules;
     * shared memory is not counted, as Vulkan does not say a multiprocessor's). 0 where a figure is unknown.
     */
    static int blocksPerMultiprocessor(int registers, int threads, int subgroup, int warpsPerSm, int registersPerSm) {
        if (registers <= 0 || threads <= 0 || warpsPerSm <= 0 || registersPerSm <= 0) return 0;
        int warps = (threads + subgroup - 1) / subgroup;
        int perWarp = ((registers + 7) / 8 * 8 * 32 + 255) / 256 * 256;
        int warpsByRegisters = 4 * (registersPerSm / 4 / perWarp);
        return Math.min(warpsByRegisters, warpsPerSm) / warps;
    }

    void destroy(VkDevice device) {
        vkDestroyPipeline(device, pipeline, null);
        vkDestroyPipelineLayout(device, layout, null);
    }
}
