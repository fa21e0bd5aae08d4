package jmlc.compiler.build;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphPrinter;
import jmlc.compiler.ir.Node;
import jmlc.compiler.schedule.rule.AttentionDecodeRule;
import jmlc.compiler.schedule.rule.AttentionPrefillRule;
import jmlc.compiler.schedule.rule.ElementwiseRule;
import jmlc.compiler.schedule.rule.GemmRule;
import jmlc.compiler.schedule.rule.GemmTiledRule;
import jmlc.compiler.schedule.rule.GemvDot4Rule;
import jmlc.compiler.schedule.rule.GemvHalfRule;
import jmlc.compiler.schedule.rule.GemvRule;
import jmlc.compiler.schedule.rule.NormRule;
import jmlc.compiler.schedule.rule.RopeKvAppendRule;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.schedule.ScheduleContext;
import jmlc.compiler.schedule.ScheduleRule;
import jmlc.compiler.target.Target;

/** Schedules every node of a graph with the first rule that matches it. */
public final class Scheduler {
    private Scheduler() {}

    /** Tried in order; the first match wins; the elementwise fallback is last. */
    public static final List<ScheduleRule> RULES = List.of(
            new GemmRule(),            // matmul with several tokens on tensor cores (prefill)
            new GemmTiledRule(),       // the same without mma.sync: AMD matrix units (WMMA, MFMA) or the vector units (dot2)
            new GemvHalfRule(),        // 4-bit f16-scale matmul in f16 arithmetic, prologue staged in shared memory (decode)
            new GemvDot4Rule(),        // 8-bit weights by integer dot products against x in bytes, where the target has them
            new GemvRule(),            // any matmul in f32 arithmetic (decode; prefill fallback)
            new AttentionDecodeRule(), // one query per head: split-KV, flash-decoding
            new AttentionPrefillRule(),// causal, online softmax per query
            new RopeKvAppendRule(),
            new NormRule(),            // rms_norm, add_rms_norm: block reductions
            new ElementwiseRule());    // maps and gathers

    public static Program schedule(Graph g, Target target, boolean decode, int maxSeq, Knobs knobs) {
        ScheduleContext ctx = new ScheduleContext(g, target, decode, decode ? 1 : maxSeq, knobs);
        List<Program.Step> steps = new ArrayList<>();
        for (Node n : g.nodes()) {
            Program.Step step = null;
            for (ScheduleRule r : RULES) {
                ctx.takeChosen(); // what a rule that declined chose is not the node's
                Optional<List<KernelCall>> calls = r.apply(n, ctx);
                if (calls.isPresent()) {
                    step = new Program.Step(n, r.name(), calls.get(), ctx.takeChosen());
                    break;
                }
            }
            if (step == null) throw new IllegalStateException("no schedule rule matches " + GraphPrinter.node(n) + " for " + target);
            steps.add(step);
        }
        return new Program(g, target, decode, ctx.maxSeq(), steps);
    }
}
