package jmlc.engine.bench;

import jmlc.compiler.build.Build;
import jmlc.compiler.codegen.CudaEmitter;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.target.Target;
import jmlc.engine.model.CompiledModel;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GPU suite's check models cover what they are there for, as the compiler builds them today. */
class GpuSuiteCheckModelsTest {
    /** The wide model's decode GEMVs stage more than 48 KiB, so on a CUDA card the check runs the opt-in launch path. */
    @Test
    void theWideModelsGemvsTakeDynamicSharedMemoryOnCuda() {
        CompiledModel cm = CompiledModel.compile(GpuSuite.wideConfig(), QuantMode.Q4F16_1, 96, false, Set.of(), 80);
        List<Kernel> dynamic = Build.compile(cm.graph(), Target.parse("cuda:sm_90"), Knobs.defaults(), 80).decode().kernels().stream()
                .filter(k -> CudaEmitter.dynamicSharedBytes(k) > 0).toList();
        assertTrue(dynamic.stream().anyMatch(k -> k.name().startsWith("gemvh")), "a decode GEMV in dynamic shared memory: " + dynamic.stream().map(Kernel::name).toList());
    }
}
