package jmlc.engine.runtime.vulkan;

import jmlc.compiler.kernel.Kernel;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.GpuException;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;
import org.lwjgl.vulkan.*;

import java.nio.ByteBuffer;
import java.nio.LongBuffer;

import static org.lwjgl.vulkan.VK13.*;

/**
 * A kernel as a Vulkan compute pipeline: its SPIR-V module, a pipeline layout of one push-constant
 * range (8 bytes per buffer address, 4 per scalar: GlslEmitter's ABI) and no descriptor sets, and
 * the pipeline, made with the target's subgroup size required and, where the workgroup's x size
 * is a multiple of it, full subgroups (so subgroup shuffles see the lanes the kernel IR means).
 */
record VulkanKernel(Kernel kernel, long layout, long pipeline, int pushBytes) implements GpuDevice.LoadedKernel {

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
                int sg = probe.target().warpSize();
                if (probe.sizeControl() != DeviceProbe.SizeControl.NONE) {
                    // LWJGL 3.3.6 generates no setter for requiredSubgroupSize (it marks the member as returned): written at its offset
                    VkPipelineShaderStageRequiredSubgroupSizeCreateInfo required = VkPipelineShaderStageRequiredSubgroupSizeCreateInfo.calloc(stack).sType$Default();
                    MemoryUtil.memPutInt(required.address() + VkPipelineShaderStageRequiredSubgroupSizeCreateInfo.REQUIREDSUBGROUPSIZE, sg);
                    stage.pNext(required.address());
                    if (kernel.block()[0] % sg == 0) stage.flags(VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT);
                }
                VkComputePipelineCreateInfo.Buffer ci = VkComputePipelineCreateInfo.calloc(1, stack).sType$Default().stage(stage).layout(layout);
                int r = vkCreateComputePipelines(device, pipelineCache, ci, null, p);
                if (r != VK_SUCCESS) {
                    vkDestroyPipelineLayout(device, layout, null);
                    throw new GpuException("kernel " + kernel.name() + ": the driver could not make its compute pipeline (vkCreateComputePipelines: " + Vk.name(r) + ")");
                }
                return new VulkanKernel(kernel, layout, p.get(0), push);
            } finally {
                vkDestroyShaderModule(device, module, null);
            }
        }
    }

    void destroy(VkDevice device) {
        vkDestroyPipeline(device, pipeline, null);
        vkDestroyPipelineLayout(device, layout, null);
    }
}
