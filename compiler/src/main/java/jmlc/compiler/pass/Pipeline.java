package jmlc.compiler.pass;

import jmlc.compiler.ir.Bindings;
import jmlc.compiler.ir.Dim;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.quant.QuantMode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The pass pipeline: one flat list, in order, with the phase each pass belongs to. Every phase's
 * output graph is kept, so users can dump the IR after any of them ({@code jmlc compile --emit},
 * {@code %ir PHASE}) and switch passes off by name to see what each one buys.
 */
public final class Pipeline {

    /** The graph after one pass, and how long the pass took. */
    public record Phase(String name, Graph graph, long nanos) {}

    /** Every phase's graph, the final one, and its memory plan. */
    public record Result(List<Phase> phases, Graph graph, MemoryPlan memory) {
        public Graph after(String phase) {
            for (Phase p : phases) if (p.name().equalsIgnoreCase(phase) || p.name().toLowerCase().startsWith(phase.toLowerCase())) return p.graph();
            throw new IllegalArgumentException("no phase named '" + phase + "': phases are " + phases.stream().map(Phase::name).toList());
        }
    }

    public static List<Pass> standard(QuantMode mode) {
        return List.of(
                // layout: matmuls that share an input become one wide matmul (qkv, gate_up), so
                // each is one weight to pack and one kernel to run
                new FuseParallelMatmuls(),
                // quantization: the stored format of every weight for the mode
                new QuantizeWeights(mode),
                // fusion: dequantize into matmul, rope into the cache append, silu into mul
                new FuseDequantMatmul(),
                new FuseRopeKvAppend(),
                new FuseSiluMul(),
                // matmul prologues and epilogues: silu·mul into the gate/up GEMV that makes its input
                // (rows interleaved), norms into the GEMV that reads them, residual adds into the GEMV
                // that feeds them; the final norm moves after last_row
                new MoveLastRowBeforeNorm(),
                new FuseSiluMulEpilogue(),
                new FuseMatmulPrologue(),
                new FuseMatmulResidual(),
                // what is left of add + norm pairs (when the matmul fusions are switched off)
                new FuseAddRmsNorm(),
                // cleanup: nodes whose results nothing reads any more
                new EliminateDeadCode(),
                // storage: activations only a matmul reads (attention's and silu·mul's outputs) in f16
                // where the mode's activations are f16
                new HalfMatmulInputs(mode));
    }

    private final List<Pass> passes;
    private final Set<String> disabled;
    private final int maxSeq;

    /**
     * @param disabled names of passes to skip ({@link Pass#name()}, case-insensitive, or its prefix before '(')
     * @param maxSeq   the most tokens one step will process (sizes the memory plan)
     */
    public Pipeline(List<Pass> passes, Set<String> disabled, int maxSeq) {
        this.passes = List.copyOf(passes);
        this.disabled = disabled.stream().map(String::toLowerCase).collect(java.util.stream.Collectors.toSet());
        this.maxSeq = maxSeq;
        for (String d : disabled)
            if (passes.stream().noneMatch(p -> matches(p, d.toLowerCase())))
                throw new IllegalArgumentException("no pass named '" + d + "' to disable: passes are " + passes.stream().map(Pass::name).toList());
    }

    private static boolean matches(Pass p, String name) {
        String n = p.name().toLowerCase();
        return n.equals(name) || n.startsWith(name + "(");
    }

    public Result run(Graph input) {
        List<Phase> phases = new ArrayList<>();
        phases.add(new Phase("input", input, 0));
        Graph g = input;
        for (Pass p : passes) {
            if (disabled.stream().anyMatch(d -> matches(p, d))) continue;
            long t0 = System.nanoTime();
            try {
                g = p.apply(g).verify();
            } catch (RuntimeException e) {
                throw new IllegalStateException("pass " + p.name() + " failed on graph " + g.name() + ": " + e.getMessage(), e);
            }
            phases.add(new Phase(p.name(), g, System.nanoTime() - t0));
        }
        return new Result(List.copyOf(phases), g, MemoryPlan.plan(g, Bindings.of(Dim.SEQ.name(), maxSeq)));
    }
}
