package jmlc.compiler.tune;

import jmlc.compiler.build.Build;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Value;
import jmlc.compiler.schedule.InvalidKnobException;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.KnobSpace;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.schedule.Tunable;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The tuning tasks of a compiled model: one per kernel signature of its decode and prefill
 * programs (a signature in both is tuned where the decode program, run once per token, uses it).
 * A task's region is its node, with the nodes whose work its kernels absorbed (a producer left
 * without kernels of its own, as rope_kv_append is by the decode attention), so a knob that
 * decides the absorption is measured whole.
 */
public final class Tasks {
    private Tasks() {}

    /** A prefill candidate is checked at a short prompt (a rule's split-K path) ... */
    public static final int CHECK_SHORT = 9;
    /** ... and at a prompt longer than the largest row tile any rule tries (the GEMM's 128), ending in a partial tile. */
    public static final int CHECK_LONG = 140;

    /**
     * @param build          the model compiled with the rules' defaults (regions are cut by what the defaults absorb)
     * @param current        the knob values the model compiles with now (the tuning database's), which
     *                       the search tries right after the defaults; values a space refuses are ignored
     * @param prefillTokens  the prompt length prefill tasks are timed at (the benchmark's 512)
     * @param decodePosition the context length decode tasks are timed at (256: the mean position of
     *                       the seed protocol's 512 decoded tokens)
     * @param include        which signatures to tune ({@code toString()}: {@code gemm_..._4096x4096@cuda:sm_90})
     */
    public static List<TuningTask> extract(Build build, Knobs current, int prefillTokens, int decodePosition, Predicate<String> include) {
        Map<KernelSignature, TuningTask> tasks = new LinkedHashMap<>();
        for (Program p : List.of(build.decode(), build.prefill())) {
            Map<KernelSignature, Integer> uses = new LinkedHashMap<>();
            for (Program.Step s : p.steps()) for (Tunable t : s.tunables()) uses.merge(t.space().signature(), 1, Integer::sum);
            Map<Value, Program.Step> producer = new IdentityHashMap<>();
            for (Program.Step s : p.steps()) for (Value o : s.node().outputs()) producer.put(o, s);
            for (Program.Step s : p.steps())
                for (Tunable t : s.tunables()) {
                    KernelSignature sig = t.space().signature();
                    if (tasks.containsKey(sig) || !include.test(sig.toString())) continue;
                    List<Node> nodes = new ArrayList<>();
                    for (Value in : s.node().inputs()) {
                        Program.Step from = producer.get(in);
                        if (from != null && from.calls().isEmpty() && !nodes.contains(from.node())) nodes.add(from.node());
                    }
                    nodes.add(s.node());
                    int maxSeq = p.maxSeq();
                    int seq = p.decode() ? 1 : Math.clamp(prefillTokens, 1, maxSeq);
                    int ctx = contextLength(p);
                    int pos = p.decode() ? Math.clamp(decodePosition, 0, Math.max(0, ctx - 1)) : 0;
                    int[] check = p.decode() ? new int[] {1}
                            : java.util.stream.IntStream.of(Math.min(CHECK_SHORT, seq), Math.min(CHECK_LONG, seq)).distinct().toArray();
                    tasks.put(sig, new TuningTask(sig, t.space(), s.rule(), Region.extract(p.graph(), nodes, sig.key()), p.decode(), seq, pos,
                            uses.get(sig), valuesOf(t.space(), current), check));
                }
        }
        return List.copyOf(tasks.values());
    }

    /** The values {@code current} sets for {@code space} over its defaults, or the defaults where the space refuses them. */
    public static Map<String, Integer> valuesOf(KnobSpace space, Knobs current) {
        try {
            return space.resolve(current.values(space.signature()));
        } catch (InvalidKnobException e) {
            return space.defaults();
        }
    }

    /** Positions the programs' caches hold (the smallest state's second dimension), or a large number without caches. */
    private static int contextLength(Program p) {
        int ctx = Integer.MAX_VALUE;
        for (Value s : p.graph().states())
            if (s.type().shape().rank() >= 2) ctx = (int) Math.min(ctx, s.type().shape().dim(1).size());
        return ctx;
    }
}
