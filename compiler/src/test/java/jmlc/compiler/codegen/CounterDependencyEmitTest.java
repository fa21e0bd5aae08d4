package jmlc.compiler.codegen;

import jmlc.compiler.build.Build;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.kernel.KernelCheck;
import jmlc.compiler.kernel.Stmt;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static jmlc.compiler.kernel.K.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA side of a counter dependency (CudaEmitter, {@code RuntimeSettings.counterDependencies}): every kernel that
 * waits for the kernels before it takes the launch before's count and blocks and its own count as its last three
 * parameters, waits on that count where it is given one (else for the grid), and, where every thread reaches its end,
 * counts its block there. Whether the words hold what they should at each launch is the runner's test, on the
 * simulated device (GpuRunnerSimulatedTest); nvcc compiles all of it (NvccCompileTest).
 */
class CounterDependencyEmitTest {
    private static final String PARAMS = "const unsigned int* jmlc_after, unsigned int jmlc_after_blocks, unsigned int* jmlc_done) {";
    private static final String COUNT = "if (jmlc_done) jmlc_count_block(jmlc_done);";

    private static Program decode(Target t) {
        return Build.compile(GeneratedKernels.graph(new GeneratedKernels.Case(GeneratedKernels.llama2_7b(), QuantMode.Q4F16_1, Set.of())), t, Knobs.defaults(), 512).decode();
    }

    @Test
    void everyDecodeKernelOnSm90TakesTheCountsAndCountsWhereEveryThreadReachesItsEnd() {
        CudaEmitter emitter = new CudaEmitter();
        int counting = 0, returning = 0;
        for (Kernel k : decode(Target.parse("cuda:sm_90")).kernels()) {
            String src = emitter.emit(k);
            assertTrue(src.contains(PARAMS), k.name() + " takes the counter dependency last:\n" + src.lines().filter(l -> l.contains(k.name() + "(")).toList());
            int wait = src.indexOf("if (jmlc_after) jmlc_wait_blocks(jmlc_after, jmlc_after_blocks); else asm volatile(\"griddepcontrol.wait;\"");
            assertTrue(wait > src.indexOf(PARAMS), k.name() + " waits on the count where it has one, in its body");
            boolean returns = KernelCheck.holds(k.body(), Stmt.Return.class);
            assertEquals(!returns, k.countsFinishedBlocks(), k.name());
            if (k.countsFinishedBlocks()) {
                counting++;
                assertTrue(src.strip().endsWith(COUNT + " // a counter dependency's count (jmlc_done)\n}"), k.name() + " counts its block as its last statement:\n"
                        + src.substring(Math.max(0, src.length() - 300)));
            } else {
                returning++;
                assertFalse(src.contains(COUNT), k.name() + " has threads that return early, so it never counts (the next launch waits for its grid)");
            }
        }
        assertTrue(counting >= 8 && returning >= 1, counting + " kernels count, " + returning + " return early");
    }

    @Test
    void kernelsThatDoNotWaitTakeNoCounts() {
        for (Kernel k : decode(Target.parse("cuda:sm_80")).kernels()) {
            String src = new CudaEmitter().emit(k);
            assertFalse(k.waitsForGridDependency() || k.countsFinishedBlocks(), k.name());
            assertFalse(src.contains("jmlc_after") || src.contains("jmlc_done") || src.contains("jmlc_wait_blocks"), k.name() + " on sm_80");
        }
    }

    @Test
    void aWaitInsideABranchIsRefused() {
        Buffer out = new Buffer("out", KType.F32, false);
        K.Body b = new K.Body();
        b.ifThen(lt(tid(0), c(16)), t -> t.gridDependency(Stmt.GridDependency.Kind.WAIT));
        b.store(out, tid(0), f(1));
        var e = assertThrows(IllegalStateException.class, () -> Kernel.checked("branchy_wait", List.of(out), List.of(), List.of(), b.build(), new int[] {32, 1, 1},
                new Expr[] {c(1), c(1), c(1)}, Map.of(), "out[t] = 1", Target.parse("cuda:sm_90").caps()));
        assertTrue(e.getMessage().contains("branchy_wait") && e.getMessage().contains("top level"), e.getMessage());
    }
}
