package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.Node;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.ScheduleContext;
import jmlc.compiler.schedule.ScheduleRule;

import java.util.List;
import java.util.Optional;

/** Matmul with several tokens on tensor cores (mma.sync m16n8k16): prefill. */
public final class GemmRule implements ScheduleRule {

    @Override
    public String name() {
        return "gemm";
    }

    @Override
    public Optional<List<KernelCall>> apply(Node node, ScheduleContext ctx) {
        return Optional.empty(); // tensor-core GEMM: next
    }
}
