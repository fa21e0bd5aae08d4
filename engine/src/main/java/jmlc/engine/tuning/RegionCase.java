package jmlc.engine.tuning;

import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.compiler.ir.Bindings;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.Value;
import jmlc.compiler.quant.Half;
import jmlc.compiler.tune.TuningTask;
import jmlc.engine.model.Progress;
import jmlc.engine.model.SyntheticWeights;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A tuning task's region made concrete, what every measurer runs its candidates on: random
 * weights (a scale per quantization group, varied norm weights), random activations for the
 * region's inputs, KV caches holding random keys and values before the task's position, and the
 * reference interpreter's outputs and updated caches for them at each check length, computed once
 * per task and compared with every candidate's.
 */
public final class RegionCase implements AutoCloseable {
    private final TuningTask task;
    private final Graph graph;
    private final SyntheticWeights weights;
    private final long seed;
    private final Map<Integer, Expected> expected = new HashMap<>();

    /** The reference's results for a step of {@code seq} tokens: the region's outputs and its updated caches. */
    public record Expected(int seq, Map<Value, float[]> outputs, Map<Value, float[]> states) {}

    public RegionCase(TuningTask task, long seed) {
        this.task = task;
        this.graph = task.region();
        this.seed = seed;
        this.weights = new SyntheticWeights(graph, seed, Progress.NONE, true);
    }

    public TuningTask task() {
        return task;
    }

    public Graph graph() {
        return graph;
    }

    public SyntheticWeights weights() {
        return weights;
    }

    /** The inputs besides tokens and pos: the activations the region reads from the rest of the model. */
    public java.util.List<Value> activations() {
        return graph.inputs().stream().filter(v -> !v.name().equals("tokens") && !v.name().equals("pos")).toList();
    }

    /**
     * Random values (about N(0, 1)) for input {@code in} in a step of {@code seq} tokens, the same
     * each call; rounded to f16 for an f16 input (a cache), as the device will hold them.
     */
    public float[] input(Value in, int seq) {
        long n = in.type().shape().numel(Bindings.of("seq", seq));
        SplittableRandom r = new SplittableRandom(seed * 31 + in.name().hashCode() * 7L + seq);
        float[] v = new float[Math.toIntExact(n)];
        boolean half = in.type().dtype() == DType.F16;
        for (int i = 0; i < v.length; i++) {
            float x = (float) gaussian(r);
            v[i] = half ? Half.toFloat(Half.fromFloat(x)) : x;
        }
        return v;
    }

    /** Token ids for a step of {@code seq} tokens: within the embedding table, if the region has one. */
    public int[] tokens(int seq) {
        int vocab = 1;
        for (Node n : graph.nodes()) if (n.op() instanceof Op.Embed) vocab = (int) n.input(0).type().shape().dim(0).size();
        return new SplittableRandom(seed + seq).ints(seq, 0, vocab).toArray();
    }

    /**
     * A cache's contents before the step: random keys or values (f16-rounded for f16 caches) at the
     * positions before the task's, zeros after. States that are no {@code [heads, positions, dim]} cache start at zero.
     */
    public float[] initialState(Value state) {
        float[] v = new float[Math.toIntExact(state.type().shape().numel())];
        if (state.type().shape().rank() != 3) return v;
        int heads = (int) state.type().shape().dim(0).size(), ctx = (int) state.type().shape().dim(1).size(), d = (int) state.type().shape().dim(2).size();
        SplittableRandom r = new SplittableRandom(seed ^ state.name().hashCode());
        int filled = Math.min(task.position(), ctx);
        for (int h = 0; h < heads; h++)
            for (int p = 0; p < filled; p++)
                for (int i = 0; i < d; i++) {
                    float x = (float) gaussian(r);
                    v[(h * ctx + p) * d + i] = state.type().dtype() == DType.F16 ? Half.toFloat(Half.fromFloat(x)) : x;
                }
        return v;
    }

    /** The reference interpreter's results for a step of {@code seq} tokens from the task's position (computed once). */
    public synchronized Expected expected(int seq) {
        return expected.computeIfAbsent(seq, s -> {
            ReferenceInterpreter ref = new ReferenceInterpreter(graph, weights::get).parallel(true); // synthetic weights live in a shared arena
            ReferenceInterpreter.State st = new ReferenceInterpreter.State();
            for (Value v : graph.states()) st.set(v, initialState(v));
            Map<Value, float[]> in = new IdentityHashMap<>();
            for (Value v : activations()) in.put(v, input(v, s));
            Map<Value, float[]> outs = new IdentityHashMap<>();
            ref.run(tokens(s), task.position(), st, in, (node, values) -> {
                for (int i = 0; i < values.length; i++) if (graph.outputs().contains(node.output(i))) outs.put(node.output(i), values[i].clone());
            });
            Map<Value, float[]> states = new IdentityHashMap<>();
            for (Value v : graph.stateUpdates().keySet()) states.put(v, st.get(v));
            return new Expected(s, outs, states);
        });
    }

    /** ‖got − want‖ / ‖want‖ (‖got − want‖ when want is all zeros); NaN when a value is not finite or the lengths differ. */
    public static double relError(float[] got, float[] want) {
        if (got.length != want.length) return Double.NaN;
        double num = 0, den = 0;
        for (int i = 0; i < got.length; i++) {
            if (!Float.isFinite(got[i])) return Double.NaN;
            double e = got[i] - want[i];
            num += e * e;
            den += (double) want[i] * want[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble(1e-12, 1), w = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
    }

    @Override
    public void close() {
        weights.close();
    }
}
