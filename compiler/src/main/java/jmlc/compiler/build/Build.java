package jmlc.compiler.build;

import jmlc.compiler.codegen.CodeGenerator;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.schedule.SamplingKernels;
import jmlc.compiler.target.Target;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's graph compiled for one target: the decode program (one token a step), the prefill
 * program (up to {@code maxSeq} tokens), the kernels the runtime adds (device sampling), and every
 * kernel's source as the target's code generator prints it. This is the one way to compile: the
 * GPU runner runs exactly these kernels, and {@code jmlc compile}, {@code %kernels} and
 * {@code %source} show them, so what a user inspects is what runs.
 *
 * @param sampling     the runtime's kernels: greedy argmax and sampling over the logits row, and their
 *                     forms that also feed the chosen token back as the next step's input
 * @param sources      every kernel's source by kernel name, decode kernels first, then prefill, then
 *                     the short-context decode program's own, then sampling
 * @param shortDecode  the decode program for positions below {@code shortContext} ({@link ShortContextDecode}),
 *                     or null when there is none
 * @param shortContext decode steps at positions below this run {@code shortDecode}; 0 when it is null
 * @param persistent   the most decode launches one persistent kernel runs ({@link PersistentDecode}; 1: none fused)
 * @param prefetchMib  MiB of the next GEMVs' weights the decode programs' weightless launches ask of the L2 ({@link WeightPrefetch}; 0: none)
 */
public record Build(Target target, Program decode, Program prefill, Sampling sampling, Map<String, String> sources,
                    Program shortDecode, int shortContext, int persistent, int prefetchMib) {

    /** Kernels the runtime launches around the programs. */
    public record Sampling(Kernel argmax, Kernel sample, Kernel argmaxAndAdvance, Kernel sampleAndAdvance) {
        public List<Kernel> all() {
            return List.of(argmax, sample, argmaxAndAdvance, sampleAndAdvance);
        }
    }

    public Build {
        sources = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sources));
        if ((shortDecode == null) != (shortContext == 0))
            throw new IllegalArgumentException("a short-context decode program needs a threshold above 0, and only it: " + shortContext);
    }

    /**
     * Schedules {@code graph} (after the pass pipeline) into its decode and prefill programs for
     * {@code target} with knob values from {@code knobs} over the rules' defaults, and prints every
     * kernel with the target's code generator.
     *
     * @param maxSeq the most tokens one prefill step carries
     */
    public static Build compile(Graph graph, Target target, Knobs knobs, int maxSeq) {
        int persistent = PersistentDecode.kernels(knobs, target), ahead = WeightPrefetch.mib(knobs, target);
        Knobs decodeKnobs = PersistentDecode.forFusion(graph, target, maxSeq, knobs, persistent);
        Program decode = WeightPrefetch.apply(PersistentDecode.fuse(Scheduler.schedule(graph, target, true, maxSeq, decodeKnobs), target.caps(), persistent),
                target.caps(), ahead);
        Program prefill = Scheduler.schedule(graph, target, false, maxSeq, knobs);
        int positions = ShortContextDecode.positions(knobs, target, graph);
        Program shortDecode = positions > 0 ? WeightPrefetch.apply(PersistentDecode.fuse(
                Scheduler.schedule(graph, target, true, maxSeq, ShortContextDecode.attentionInOneSplit(graph, target, decodeKnobs)), target.caps(), persistent),
                target.caps(), ahead) : null;
        int vocab = (int) graph.outputs().getFirst().type().shape().cols();
        Sampling sampling = new Sampling(SamplingKernels.argmax(vocab, target.caps()), SamplingKernels.sample(vocab, target.caps()),
                SamplingKernels.argmaxAndAdvance(vocab, target.caps()), SamplingKernels.sampleAndAdvance(vocab, target.caps()));
        Map<String, Kernel> all = new LinkedHashMap<>();
        for (Kernel k : decode.kernels()) Program.sameOrNew(all, k);
        for (Kernel k : prefill.kernels()) Program.sameOrNew(all, k);
        if (shortDecode != null) for (Kernel k : shortDecode.kernels()) Program.sameOrNew(all, k);
        for (Kernel k : sampling.all()) Program.sameOrNew(all, k);
        CodeGenerator codegen = target.codegen();
        Map<String, String> sources = new LinkedHashMap<>();
        for (Kernel k : all.values()) sources.put(k.name(), codegen.emit(k));
        return new Build(target, decode, prefill, sampling, sources, shortDecode, positions, persistent, ahead);
    }

    /**
     * The build-level rewrite that made a launched kernel no step schedules ({@link PersistentDecode}'s fused
     * kernels, {@link WeightPrefetch}'s hosts), by its kind; null for a kernel a step schedules.
     */
    public static String rewriteOf(Kernel k) {
        if (k.gridBarriers()) return PersistentDecode.KIND;
        if (WeightPrefetch.hosts(k)) return WeightPrefetch.KIND;
        return null;
    }

    /** The decode program a step at {@code pos} runs: the short-context one below {@link #shortContext}. */
    public Program decodeAt(int pos) {
        return pos < shortContext ? shortDecode : decode;
    }

    /** The programs, in this order: decode, prefill, and the short-context decode where there is one. */
    public List<Program> programs() {
        return shortDecode == null ? List.of(decode, prefill) : List.of(decode, prefill, shortDecode);
    }

    /** The decode or prefill program. */
    public Program program(boolean decodeProgram) {
        return decodeProgram ? decode : prefill;
    }

    /** Every distinct kernel (by name): the decode program's, the prefill program's, then the sampling kernels. */
    public List<Kernel> kernels() {
        Map<String, Kernel> all = new LinkedHashMap<>();
        for (Program p : programs())
            for (Kernel k : p.kernels()) all.putIfAbsent(k.name(), k);
        for (Kernel k : sampling.all()) all.putIfAbsent(k.name(), k);
        return List.copyOf(all.values());
    }

    /** The source of the kernel named {@code name}. */
    public String source(String name) {
        String s = sources.get(name);
        if (s == null) throw new IllegalArgumentException("the build for " + target + " has no kernel named " + name);
        return s;
    }

    /** The code generator's language ({@code CUDA C}, {@code HIP}) and file extension ({@code cu}, {@code hip}). */
    public CodeGenerator codegen() {
        return target.codegen();
    }
}
