package jmlc.compiler.schedule;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Node;
import jmlc.compiler.kernel.Kernel;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jmlc.compiler.target.Target;

/**
 * A graph scheduled for a target: for each node, in order, the rule that matched, its kernel
 * launches and the knobs it chose. {@code decode} programs run one token per step (and are
 * captured as device graphs); prefill programs take up to {@code maxSeq} tokens.
 *
 * @param launched the calls as a runtime launches them, in order: the steps' calls one after another, or
 *                 fewer where consecutive calls were fused into one persistent kernel with grid barriers
 *                 between them ({@code PersistentDecode}), or where a call was rewritten to ask the L2 for
 *                 the next calls' weights while it runs ({@code WeightPrefetch}). The steps keep each node's own calls, which
 *                 diagnostics check node by node and the tuner measures
 */
public record Program(Graph graph, Target target, boolean decode, int maxSeq, List<Step> steps, List<KernelCall> launched) {

    /** A node's kernels, the rule that made them and the knob spaces it resolved (with the values it chose). */
    public record Step(Node node, String rule, List<KernelCall> calls, List<Tunable> tunables) {
        public Step {
            calls = List.copyOf(calls);
            tunables = List.copyOf(tunables);
        }
    }

    /** Launched as scheduled: every step's calls, one after another. */
    public Program(Graph graph, Target target, boolean decode, int maxSeq, List<Step> steps) {
        this(graph, target, decode, maxSeq, steps, steps.stream().flatMap(s -> s.calls().stream()).toList());
    }

    public Program {
        steps = List.copyOf(steps);
        launched = List.copyOf(launched);
        Map<String, Kernel> seen = new LinkedHashMap<>();
        for (Step s : steps) for (KernelCall c : s.calls()) sameOrNew(seen, c.kernel());
        for (KernelCall c : launched) sameOrNew(seen, c.kernel());
    }

    /** The same program launched as {@code launched} (the same work in fewer, fused calls). */
    public Program withLaunched(List<KernelCall> launched) {
        return new Program(graph, target, decode, maxSeq, steps, launched);
    }

    /** Whether the launches are not the steps' calls: some run several of them (fused), or host a prefetch. */
    public boolean fused() {
        return !launched.equals(calls());
    }

    /** Runtimes compile and cache kernels by name, so one name must always mean the same kernel. */
    public static void sameOrNew(Map<String, Kernel> seen, Kernel k) {
        Kernel other = seen.putIfAbsent(k.name(), k);
        if (other != null && (!other.buffers().equals(k.buffers()) || !other.scalars().equals(k.scalars()) || !other.body().equals(k.body())))
            throw new IllegalStateException("two different kernels are named " + k.name() + ": a schedule rule must put what distinguishes them in the name");
    }

    /** Distinct kernels by name, in first-use order: the steps' and then the fused launches' own. */
    public List<Kernel> kernels() {
        Map<String, Kernel> m = new LinkedHashMap<>();
        for (Step s : steps) for (KernelCall c : s.calls()) m.putIfAbsent(c.kernel().name(), c.kernel());
        for (KernelCall c : launched) m.putIfAbsent(c.kernel().name(), c.kernel());
        return List.copyOf(m.values());
    }

    /** The steps' calls, one after another (what runs where nothing is fused; see {@link #launched}). */
    public List<KernelCall> calls() {
        return steps.stream().flatMap(s -> s.calls().stream()).toList();
    }

    /** The knob spaces of the program's kernels, one per signature, in first-use order. */
    public List<Tunable> tunables() {
        Map<KernelSignature, Tunable> m = new LinkedHashMap<>();
        for (Step s : steps) for (Tunable t : s.tunables()) m.putIfAbsent(t.space().signature(), t);
        return List.copyOf(m.values());
    }

    /**
     * A knob a rule names so when its kernel may let the next one launch before its own work is done
     * ({@link #triggersEarly}); above 0 is early.
     */
    public static final String EARLY_TRIGGER = "trigger";

    /**
     * Whether a kernel of the program lets the next one launch before its own work is done (a rule's
     * {@link #EARLY_TRIGGER} knob above 0). Such a program gains only when its launches are programmatic
     * dependents, so runtimes launch it so unless told otherwise.
     */
    public boolean triggersEarly() {
        return tunables().stream().anyMatch(t -> t.chosen().getOrDefault(EARLY_TRIGGER, 0) != 0);
    }

    /** Kernel launches a step of the program takes. */
    public int launches() {
        return launched.size();
    }
}
