package jmlc.engine.runtime.vulkan;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Blocks an NVIDIA multiprocessor holds, from the registers NVIDIA's Vulkan driver reports for a pipeline. */
class VulkanOccupancyTest {

    @Test
    void blocksFollowTheRegistersAsTheCudaOccupancyCalculatorCountsThem() {
        // H200 figures: CUDA's occupancy API gave 4 blocks of 256 threads at 63-64 registers, 3 at 66, 4 of 128 threads at 128
        assertEquals(4, VulkanKernel.blocksPerMultiprocessor(64, 256, 32, 64, 65536));
        assertEquals(4, VulkanKernel.blocksPerMultiprocessor(63, 256, 32, 64, 65536));
        assertEquals(3, VulkanKernel.blocksPerMultiprocessor(66, 256, 32, 64, 65536));
        assertEquals(4, VulkanKernel.blocksPerMultiprocessor(128, 128, 32, 64, 65536));
        // the f16 GEMV through NVIDIA's Vulkan compiler: 119 to 121 registers, 2 blocks of 256 threads
        assertEquals(2, VulkanKernel.blocksPerMultiprocessor(121, 256, 32, 64, 65536));
        assertEquals(4, VulkanKernel.blocksPerMultiprocessor(56, 256, 32, 64, 65536));
        // few registers: the warps a multiprocessor schedules bound it (64 on Hopper)
        assertEquals(2, VulkanKernel.blocksPerMultiprocessor(16, 1024, 32, 64, 65536));
        // unknown figures: 0
        assertEquals(0, VulkanKernel.blocksPerMultiprocessor(0, 256, 32, 64, 65536));
        assertEquals(0, VulkanKernel.blocksPerMultiprocessor(64, 256, 32, 0, 65536));
        assertEquals(0, VulkanKernel.blocksPerMultiprocessor(64, 256, 32, 64, 0));
        // more registers than one block can have: none fits
        assertEquals(0, VulkanKernel.blocksPerMultiprocessor(255, 1024, 32, 64, 65536));
    }

    @Test
    void registersAreReadFromNvidiasStatisticByName() {
        assertEquals(119, VulkanKernel.registers(Map.of("Register Count", "119", "Binary Size", "12032")));
        assertEquals(0, VulkanKernel.registers(Map.of("VGPRs", "64")));
        assertEquals(0, VulkanKernel.registers(Map.of("Register Count", "many")));
    }
}
