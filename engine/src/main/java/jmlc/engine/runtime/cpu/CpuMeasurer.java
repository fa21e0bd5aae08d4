package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.Bindings;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Value;
import jmlc.compiler.pass.MemoryPlan;
import jmlc.compiler.schedule.Precision;
import jmlc.compiler.tune.Measurement;
import jmlc.compiler.tune.Measurer;
import jmlc.compiler.tune.TuningTask;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.Progress;
import jmlc.engine.model.SyntheticWeights;
import jmlc.engine.tuning.RegionCase;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Measures CPU knob candidates ({@link CpuKnobs}) of a task's matmul on this machine. The region
 * runs in a {@link CpuExecutor} with the candidate's knob values: first on the reference's inputs,
 * compared with the reference interpreter's outputs (refused beyond {@link Precision}'s f32
 * tolerance, never timed); then timed with {@link System#nanoTime}: warm-up runs (the JIT compiles
 * the kernels), then the median of {@link #SAMPLES} samples of {@link #RUNS} runs each, rotating
 * over copies of the weights that together exceed {@link #ROTATION_BYTES}, so the caches do not
 * hold them as they do not in a model's step.
 */
public final class CpuMeasurer implements Measurer {
    static final int RUNS = 5, SAMPLES = 7, WARMUP = 3;
    /** Weights in rotation at least this large: beyond the last-level cache of the machines jmlc meets (a Zen 5's is 32 MiB a CCD). */
    static final long ROTATION_BYTES = 128L << 20;

    private final String device;
    private final long seed;

    public CpuMeasurer(String device, long seed) {
        this.device = device;
        this.seed = seed;
    }

    @Override
    public String describe() {
        return device + ": System.nanoTime, " + WARMUP + " warm-up rounds, median of " + SAMPLES + " samples of " + RUNS
                + " runs; weights rotated over copies of at least " + (ROTATION_BYTES >> 20) + " MiB; each candidate checked against the reference interpreter first";
    }

    @Override
    public Session open(TuningTask task) {
        return new TaskSession(task);
    }

    private final class TaskSession implements Session {
        private final TuningTask task;
        private final RegionCase region;
        private final MemoryPlan plan;
        private final int maxSeq;
        private final List<ModelWeights> copies = new ArrayList<>();
        private final Node matmul;

        TaskSession(TuningTask task) {
            this.task = task;
            this.region = new RegionCase(task, seed);
            this.maxSeq = Math.max(task.seq(), Arrays.stream(task.checkSeq()).max().orElse(1));
            this.plan = MemoryPlan.plan(task.region(), Bindings.of("seq", maxSeq));
            this.matmul = task.region().nodes().stream().filter(CpuKnobs::isMatmul).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(task.signature() + ": the CPU tunes matmuls only"));
            long bytes = Math.max(1, ModelWeights.bytesOf(task.region()));
            int n = (int) Math.clamp((ROTATION_BYTES + bytes - 1) / bytes, 2, 64);
            copies.add(region.weights());
            for (int i = 1; i < n; i++) copies.add(new SyntheticWeights(task.region(), seed + i, Progress.NONE));
        }

        @Override
        public List<Measurement> measure(List<Map<String, Integer>> candidates, double bestMs) {
            List<Measurement> out = new ArrayList<>();
            double best = bestMs;
            for (Map<String, Integer> c : candidates) {
                Measurement m = run(c, best);
                if (m instanceof Measurement.Timed t) best = Math.min(best, t.ms());
                out.add(m);
            }
            return out;
        }

        /** The knob values the executor uses for the candidate: the task's space set, the other at its defaults. */
        private CpuKnobs.Matmul knobs(Map<String, Integer> c) {
            CpuKnobs.Matmul d = CpuKnobs.Matmul.DEFAULTS;
            return task.signature().kind().equals("cpu_gemv") ? new CpuKnobs.Matmul(c.get("tasks_per_thread"), c.get("split_rows"), d.tileRows())
                    : new CpuKnobs.Matmul(d.tasksPerThread(), d.splitRows(), c.get("tile_rows"));
        }

        private Measurement run(Map<String, Integer> candidate, double bestMs) {
            Map<Node, CpuKnobs.Matmul> k = Map.of(matmul, knobs(candidate));
            List<CpuExecutor> runs = new ArrayList<>();
            try {
                for (ModelWeights w : copies) runs.add(new CpuExecutor(task.region(), plan, maxSeq, contextOf(task), w::get, k));
                double worst = 0;
                for (int seq : task.checkSeq()) {
                    CpuExecutor e = runs.getFirst();
                    setInputs(e, seq);
                    e.run(region.tokens(seq), task.position());
                    RegionCase.Expected want = region.expected(seq);
                    for (var o : want.outputs().entrySet()) {
                        long n = o.getKey().type().shape().numel(Bindings.of("seq", seq));
                        double err = RegionCase.relError(Arrays.copyOf(e.buf(o.getKey()), (int) n), o.getValue());
                        double tol = Precision.perNode("cpu_matmul");
                        if (!(err <= tol))
                            return new Measurement.Rejected(candidate, "differs from the reference interpreter: output " + o.getKey().name()
                                    + " rel. error " + String.format("%.2e", err) + " > " + tol + " at " + seq + " tokens");
                        worst = Math.max(worst, err);
                    }
                }
                for (CpuExecutor e : runs) setInputs(e, task.seq());
                int[] tokens = region.tokens(task.seq());
                for (int w = 0; w < WARMUP; w++) for (CpuExecutor e : runs) e.run(tokens, task.position());
                double[] samples = new double[SAMPLES];
                int taken = 0;
                for (int s = 0; s < SAMPLES; s++) {
                    long t0 = System.nanoTime();
                    for (int r = 0; r < RUNS; r++) runs.get((s * RUNS + r) % runs.size()).run(tokens, task.position());
                    samples[taken++] = (System.nanoTime() - t0) / 1e6 / RUNS;
                    if (s == 0 && samples[0] > 3 * bestMs) break; // far slower than the best: not worth more samples
                }
                double[] got = Arrays.copyOf(samples, taken);
                double[] sorted = got.clone();
                Arrays.sort(sorted);
                double median = taken % 2 == 1 ? sorted[taken / 2] : (sorted[taken / 2 - 1] + sorted[taken / 2]) / 2;
                return new Measurement.Timed(candidate, median, got, worst);
            } catch (RuntimeException e) {
                return new Measurement.Rejected(candidate, "fails: " + e.getMessage());
            } finally {
                runs.forEach(CpuExecutor::close);
            }
        }

        private void setInputs(CpuExecutor e, int seq) {
            for (Value in : region.activations()) {
                float[] v = region.input(in, seq);
                System.arraycopy(v, 0, e.buf(in), 0, v.length);
            }
        }

        @Override
        public void close() {
            for (ModelWeights w : copies.subList(1, copies.size())) w.close(); // the first is the region's own
            region.close();
        }
    }

    /** Positions the region's rope tables need: the task's step, from its position. */
    private static int contextOf(TuningTask t) {
        return t.position() + Math.max(t.seq(), Arrays.stream(t.checkSeq()).max().orElse(1)) + 1;
    }
}
