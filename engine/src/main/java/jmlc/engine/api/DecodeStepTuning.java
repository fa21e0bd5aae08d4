package jmlc.engine.api;

import jmlc.compiler.schedule.Knob;
import jmlc.compiler.schedule.Precision;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.tune.TuningRecord;
import jmlc.compiler.tune.TuningTask;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.generate.Generator;
import jmlc.engine.runtime.DeviceIdentity;
import jmlc.engine.runtime.gpu.GpuRunner;
import jmlc.engine.sampling.SamplingParams;
import jmlc.engine.tuning.TuningDatabase;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The tuning stage that judges whole decode steps, for what the per-kernel search cannot see because it
 * replays one kernel at a time: the early trigger ({@link Program#EARLY_TRIGGER}), whose gain lies between
 * kernels. A GEMV with a ring (knob {@code stages}) that lets the next kernel launch once its last copies
 * are issued, launched as programmatic dependents (the runner's knob {@code dependent} 1: no longer by default, see
 * {@code RuntimeSettings}), overlaps the next GEMV's first copies with its own last bytes. So each variant is written
 * with {@code dependent} 1; while the race under dependent launches stands (H100, 2026-12-06: NaN logits), such trials
 * fail the finite-logits check and the per-kernel result stays.
 *
 * <p>After the per-kernel search this stage loads the model as tuned and times its decode; then the same
 * launched as programmatic dependents (the runner's knob {@code dependent}); then with each
 * {@link #VARIANTS variant} laid over every tuned decode kernel that has the trigger and accepts it, first over its
 * tuned knobs and then over its defaults ({@link #laid}). It keeps
 * the fastest in the database when it is at least {@link #MIN_GAIN} ahead and its logits agree; else the
 * per-kernel result stands. On an H200 (2026-12-05, decode tok/s, the ring against the register loop as plain launches):
 * Llama-2-7B 615.7 -> 644.3 with 3 stages of 8 warps, Llama-3-8B 567.8 -> 593.7 with 4, Llama-2-13B none
 * (350.6 plain; 347.6 and 313.3 ringed) but 358.6 with its plain kernels as dependents, which lost 1.3% for 7B;
 * so the choice is the model's and the card's. Since the ring of 4 stages with the trigger became sm_90's default
 * (it won on four of the five pairs of model and card measured), "as tuned per kernel" starts from it, and the
 * stage is what finds 3 stages for 7B or the plain kernels as dependents for 13B on the H200.
 */
public final class DecodeStepTuning {
    private DecodeStepTuning() {}

    /** Knob values laid over each trigger-capable decode kernel: rings of 3 and 4 stages of 8 warps, triggering early. */
    static final List<Map<String, Integer>> VARIANTS = List.of(
            Map.of("stages", 3, "warps", 8, Program.EARLY_TRIGGER, 1),
            Map.of("stages", 4, "warps", 8, Program.EARLY_TRIGGER, 1));

    /**
     * What a ring asks of the GEMV's other knobs (GemvHalfRule: 16-byte chunks, whole subgroups on a tile, no
     * loads in registers ahead, no L2 prefetch), laid over with a variant where the kernel has the knob, so
     * a per-kernel winner with, say, pipeline 2 still gets its ring.
     */
    static final Map<String, Integer> RING_NEEDS = Map.of("vector", 4, "ksplit", 1, "pipeline", 1, "prefetch", 0);

    /** How the stage's entries say they were chosen. */
    private static final String HOW = "chosen for the decode step, whole model";

    /**
     * The runner's entry ({@link GpuRunner#space}) as the database holds it, for the target (a hand-written
     * {@code short_prompt} stays), written with {@code dependent} 0 or 1.
     */
    record Runner(String signature, Map<String, Integer> knobs, String measured) {
        static Runner of(Path dir, DeviceIdentity device, jmlc.compiler.target.Target target, String measured) {
            String sig = new jmlc.compiler.schedule.KernelSignature(GpuRunner.RUNNER_KNOBS, "", target).toString();
            Map<String, Integer> k = new HashMap<>();
            List<TuningRecord> held = TuningDatabase.read(TuningDatabase.file(dir, device), device).records();
            for (TuningRecord r : held)
                if (r.signature().equals(GpuRunner.RUNNER_KNOBS)) k.putAll(r.knobs());
            for (TuningRecord r : held)
                if (r.signature().equals(sig)) k.putAll(r.knobs()); // the target's own entry wins
            k.remove(GpuRunner.DEPENDENT);
            return new Runner(sig, Map.copyOf(k), measured);
        }

        TuningRecord record(int dependent) {
            Map<String, Integer> k = new HashMap<>(knobs);
            k.put(GpuRunner.DEPENDENT, dependent);
            return new TuningRecord(signature, k, 0, 0, 0, 0, false, "decode step, whole model", 1, measured, HOW);
        }
    }

    private static List<TuningRecord> with(List<TuningRecord> records, TuningRecord more) {
        List<TuningRecord> all = new ArrayList<>(records);
        all.add(more);
        return List.copyOf(all);
    }

    /** A variant replaces the per-kernel result only this much faster (decode tok/s), as the per-kernel search keeps a candidate. */
    static final double MIN_GAIN = 1.01;

    /**
     * One configuration timed: its name, the knobs laid over (empty: the per-kernel result) on {@code kernels} GEMVs
     * (0: the runner's knobs), decode tok/s (NaN: it failed, {@code error}).
     */
    public record Trial(String name, Map<String, Integer> knobs, int kernels, double decodeTokensPerSecond, String error) {
        @Override
        public String toString() {
            return Double.isNaN(decodeTokensPerSecond) ? String.format(Locale.ROOT, "%-26s failed: %s", name, error)
                    : String.format(Locale.ROOT, "%-26s decode %7.1f tok/s%s", name, decodeTokensPerSecond,
                    knobs.isEmpty() ? "" : "  " + (kernels == 0 ? "the runner's " : "on " + kernels + (kernels == 1 ? " kernel " : " kernels ")) + new java.util.TreeMap<>(knobs));
        }
    }

    /** The trials (the per-kernel result first) and the one kept. */
    public record Choice(List<Trial> trials, Trial kept) {
        public List<String> lines() {
            List<String> l = new ArrayList<>();
            l.add("decode step, whole model (what a kernel alone cannot show: early triggers under dependent launches):");
            for (Trial t : trials) l.add("  " + t + (t == kept ? "   <- kept" : ""));
            return l;
        }
    }

    /**
     * Runs the stage for {@code spec} loaded as {@code load}, whose per-kernel search produced {@code tuned}
     * for {@code tasks} (already saved for {@code device} in {@code dir}); empty where no tuned decode kernel
     * has an early trigger (targets without dependent launches). The database ends holding the kept variant.
     *
     * @param tokens decode tokens a timed run generates (a warm-up run, then the median of three)
     */
    public static Optional<Choice> run(String spec, LoadOptions load, Path dir, DeviceIdentity device, List<TuningTask> tasks, List<TuningRecord> tuned,
                                       int tokens, Consumer<String> progress) {
        Map<String, TuningTask> bySignature = new HashMap<>();
        for (TuningTask t : tasks) bySignature.put(t.signature().toString(), t);
        List<TuningRecord> capable = tuned.stream().filter(r -> {
            TuningTask t = bySignature.get(r.signature());
            return t != null && t.decode() && t.space().knobs().stream().map(Knob::name).anyMatch(Program.EARLY_TRIGGER::equals);
        }).toList();
        if (capable.isEmpty()) return Optional.empty();
        String measured = capable.getFirst().measured();
        Runner runner = Runner.of(dir, device, bySignature.get(capable.getFirst().signature()).signature().target(), measured);
        List<Trial> trials = new ArrayList<>();
        Map<Trial, List<TuningRecord>> records = new LinkedHashMap<>();
        List<TuningRecord> asTuned = with(capable, runner.record(0));
        try {
            Run first = time("as tuned per kernel", Map.of(), capable.size(), asTuned, spec, load, dir, device, tokens, null, progress);
            Trial base = first.trial();
            trials.add(base);
            records.put(base, asTuned);
            // plain kernels as programmatic dependents (the runner's knob): 13B gained so on the H200, 7B lost
            List<TuningRecord> dependents = with(capable, runner.record(1));
            Trial d = time("as tuned, as dependents", Map.of(GpuRunner.DEPENDENT, 1), 0, dependents, spec, load, dir, device, tokens, first, progress).trial();
            trials.add(d);
            records.put(d, dependents);
            List<List<TuningRecord>> overTuned = VARIANTS.stream().map(v -> laid(capable, bySignature, v, false)).toList();
            for (boolean overDefaults : new boolean[] {false, true})
                for (int i = 0; i < VARIANTS.size(); i++) {
                    Map<String, Integer> v = VARIANTS.get(i);
                    List<TuningRecord> laid = overDefaults ? laid(capable, bySignature, v, true) : overTuned.get(i);
                    if (laid.isEmpty() || overDefaults && knobsOf(laid).equals(knobsOf(overTuned.get(i)))) continue; // the same trial again
                    List<TuningRecord> all = new ArrayList<>(capable);
                    all.replaceAll(r -> laid.stream().filter(l -> l.signature().equals(r.signature())).findFirst().orElse(r));
                    all.add(runner.record(1)); // the trigger acts only under dependent launches
                    Trial t = time(name(v) + (overDefaults ? ", over the defaults" : ""), v, laid.size(), all, spec, load, dir, device, tokens, first, progress).trial();
                    trials.add(t);
                    records.put(t, all);
                }
        } finally {
            Trial kept = kept(trials);
            save(dir, device, kept == null ? asTuned : records.get(kept));
        }
        return Optional.of(new Choice(List.copyOf(trials), kept(trials)));
    }

    /**
     * {@code v} (with {@link #RING_NEEDS}) laid over each capable kernel's tuned knobs, or over its defaults: the
     * per-kernel winners' other knobs can suit a ring badly (H100, 2026-12-05: Llama-2-7B ring 3x8 with the trigger
     * 506.3 tok/s over the tuned knobs, 545.5 over the defaults). Kernels whose space refuses the result are left out.
     */
    static List<TuningRecord> laid(List<TuningRecord> capable, Map<String, TuningTask> bySignature, Map<String, Integer> v, boolean overDefaults) {
        List<TuningRecord> out = new ArrayList<>();
        for (TuningRecord r : capable) {
            TuningTask t = bySignature.get(r.signature());
            Map<String, Integer> knobsOfKernel = t.space().defaults(), k = new HashMap<>(overDefaults ? knobsOfKernel : r.knobs());
            RING_NEEDS.forEach((n, val) -> { if (knobsOfKernel.containsKey(n)) k.put(n, val); });
            k.putAll(v);
            if (!t.space().valid(k)) continue;
            out.add(new TuningRecord(r.signature(), k, r.defaultMs(), r.defaultMs(), r.candidates(), r.rejected(), r.exhausted(), r.timedAs(), r.uses(),
                    r.measured(), HOW + " (early trigger" + (overDefaults ? ", over the defaults)" : ")")));
        }
        return out;
    }

    private static List<Map<String, Integer>> knobsOf(List<TuningRecord> records) {
        return records.stream().map(TuningRecord::knobs).toList();
    }

    /** The fastest trial if it beats the per-kernel result (the first) by {@link #MIN_GAIN}, else the first; null if none ran. */
    static Trial kept(List<Trial> trials) {
        if (trials.isEmpty()) return null;
        Trial base = trials.getFirst(), best = base;
        for (Trial t : trials)
            if (!Double.isNaN(t.decodeTokensPerSecond()) && (Double.isNaN(best.decodeTokensPerSecond()) || t.decodeTokensPerSecond() > best.decodeTokensPerSecond())) best = t;
        if (best == base || Double.isNaN(base.decodeTokensPerSecond())) return base;
        return best.decodeTokensPerSecond() >= MIN_GAIN * base.decodeTokensPerSecond() ? best : base;
    }

    private static String name(Map<String, Integer> v) {
        return "ring " + v.get("stages") + "x" + v.get("warps") + " warps, trigger";
    }

    /** A trial, and the logits of a decode step after {@link #PROMPT} that the variants are checked against (null where it failed). */
    private record Run(Trial trial, float[] logits) {}

    /** The prompt whose next decode step's logits every trial must agree on. */
    private static final int[] PROMPT = {1, 450, 4996, 17354, 1701};

    /**
     * Saves {@code records}, loads the model (which reads them), times its decode and takes a decode step's
     * logits; where {@code base} ran, they must equal its within the decode program's whole-model tolerance
     * ({@link Precision#wholeModel}), or the trial fails: a faster step that computes something else is
     * never kept. A failure is the trial's, not the run's.
     */
    private static Run time(String name, Map<String, Integer> knobs, int kernels, List<TuningRecord> records, String spec, LoadOptions load, Path dir,
                            DeviceIdentity device, int tokens, Run base, Consumer<String> progress) {
        save(dir, device, records);
        progress.accept("decode step: " + name);
        try (LoadedModel m = ModelLoader.load(spec, load, jmlc.engine.model.Progress.NONE)) {
            GenerationConfig cfg = new GenerationConfig(tokens, SamplingParams.GREEDY, Set.of(), true);
            int[] one = {1};
            double[] d = new double[4]; // the first a warm-up
            for (int i = 0; i < d.length; i++)
                d[i] = Generator.generate(m.runner(), new int[0], 0, one, cfg, t -> { }, () -> false).stats().decodeTokensPerSecond();
            d = Arrays.copyOfRange(d, 1, d.length);
            Arrays.sort(d);
            int vocab = m.config().vocabSize();
            int[] prompt = Arrays.stream(PROMPT).map(t -> t % vocab).toArray();
            m.runner().forward(prompt, 0);
            float[] logits = m.runner().forward(new int[] {prompt[0]}, prompt.length);
            String broken = nonFinite(logits);
            if (broken != null) return new Run(new Trial(name, knobs, kernels, Double.NaN, broken), null);
            if (base != null && base.logits() != null) {
                // the stage runs only where dependent launches are, which are GPU runners; 1e-2 is f16 arithmetic's
                double tol = m.runner() instanceof GpuRunner g ? Precision.wholeModel(g.decodeProgram()) : 1e-2;
                String differs = disagreement(base.logits(), logits, tol);
                if (differs != null) return new Run(new Trial(name, knobs, kernels, Double.NaN, differs), null);
            }
            return new Run(new Trial(name, knobs, kernels, d[1], null), logits);
        } catch (RuntimeException e) {
            return new Run(new Trial(name, knobs, kernels, Double.NaN, e.getMessage()), null);
        }
    }

    /**
     * Null if every logit is finite, else how many are not, in words: a trial whose kernels compute NaN or infinity fails
     * (H100, 2026-12-06: a 7B's per-kernel result gave NaN logits, and with it as the reference every variant failed).
     */
    static String nonFinite(float[] logits) {
        int bad = 0;
        for (float v : logits) if (!Float.isFinite(v)) bad++;
        return bad == 0 ? null : bad + " of the " + logits.length + " logits of a decode step are not finite: a kernel of this configuration computes something wrong";
    }

    /** Null if {@code got} equals {@code want} within {@code tol} times the largest of {@code want}, else what differs, in words. */
    static String disagreement(float[] want, float[] got, double tol) {
        if (want.length != got.length) return "the logits have " + got.length + " values where the per-kernel result's have " + want.length;
        double scale = 0, diff = 0;
        int at = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            double e = Math.abs(got[i] - want[i]);
            if (!(e <= diff)) { // NaN counts
                diff = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
                at = i;
            }
        }
        return diff <= tol * scale ? null : String.format(Locale.ROOT,
                "a decode step's logits differ from the per-kernel result's by %.3g (token %d), beyond %.3g (the decode program's tolerance %.0e x the largest logit)",
                diff, at, tol * scale, tol);
    }

    /** Writes {@code records} into {@code device}'s database in {@code dir} (the whole-step stages' entries). */
    static void save(Path dir, DeviceIdentity device, List<TuningRecord> records) {
        try {
            TuningDatabase.save(dir, device, records);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tuning database in " + dir, e);
        }
    }
}
