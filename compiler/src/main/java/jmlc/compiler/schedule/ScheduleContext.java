package jmlc.compiler.schedule;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.target.Target;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What rules see besides the node: the graph, the target and its capabilities, the program being
 * made, and the knob values to use. Rules name their kernels' signatures through {@link #signature}
 * and take their knob values through {@link #choose}, which checks them and records the choice
 * for the program (what a tuner searches).
 */
public final class ScheduleContext {
    private final Graph graph;
    private final Target target;
    private final boolean decode;
    private final int maxSeq;
    private final Knobs knobs;
    private final List<Tunable> chosen = new ArrayList<>();

    /**
     * @param decode true for the decode program (one token per step: GEMV, split-KV attention);
     *               false for prefill (up to {@code maxSeq} tokens: GEMM, tiled attention)
     * @param maxSeq most tokens a step carries
     */
    public ScheduleContext(Graph graph, Target target, boolean decode, int maxSeq, Knobs knobs) {
        this.graph = graph;
        this.target = target;
        this.decode = decode;
        this.maxSeq = maxSeq;
        this.knobs = knobs;
    }

    public Graph graph() {
        return graph;
    }

    public Target target() {
        return target;
    }

    public Capabilities caps() {
        return target.caps();
    }

    public boolean decode() {
        return decode;
    }

    public int maxSeq() {
        return maxSeq;
    }

    public Knobs knobs() {
        return knobs;
    }

    /** The signature of a kernel of family {@code kind} for {@code shape}, on this context's target. */
    public KernelSignature signature(String kind, String shape) {
        return new KernelSignature(kind, shape, target);
    }

    /**
     * The space's values for this program (defaults over which the knob source's are laid, checked), as the rule uses
     * them ({@link KnobSpace#asUsed}: one knob's value can make another's moot), recorded as chosen.
     */
    public Map<String, Integer> choose(KnobSpace space) {
        Map<String, Integer> v = space.asUsed(peek(space));
        chosen.add(new Tunable(space, v));
        return v;
    }

    /** The space's values, checked, without recording a choice (for a rule that asks what another node's rule will choose). */
    public Map<String, Integer> peek(KnobSpace space) {
        return space.resolve(knobs.values(space.signature()));
    }

    /** The choices recorded since the last call (the scheduler takes them per node and rule tried). */
    public List<Tunable> takeChosen() {
        List<Tunable> c = List.copyOf(chosen);
        chosen.clear();
        return c;
    }

    /** Starts a kernel launch for this target. */
    public LaunchBuilder launch(String name, String summary) {
        return new LaunchBuilder(name, summary, target.caps());
    }
}
