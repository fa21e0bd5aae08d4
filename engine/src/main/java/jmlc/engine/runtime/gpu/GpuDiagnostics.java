package jmlc.engine.runtime.gpu;

import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.compiler.ir.Bindings;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;
import jmlc.compiler.schedule.BufferLayout;
import jmlc.compiler.schedule.Precision;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.quant.Half;
import jmlc.compiler.schedule.Arg;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Program;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.sampling.Sampler;
import jmlc.engine.sampling.SamplingParams;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the GPU suite asks of a loaded model beyond running it: every node's output on the device
 * against the reference interpreter, each kernel's device time, and the host's and device's cost of
 * a decode step. Works on any platform's {@link GpuRunner}.
 */
public final class GpuDiagnostics {
    private final GpuRunner runner;
    private final GpuDevice dev;

    public GpuDiagnostics(GpuRunner runner) {
        this.runner = runner;
        this.dev = runner.gpu();
    }

    /**
     * One node's output on the device against the reference interpreter's: ‖Δ‖/‖ref‖ over {@code elements}
     * values; {@code tolerance} is what {@link Precision} allows it.
     */
    public record NodeCheck(String node, String rule, String kernels, double relError, long elements, double tolerance) {
        public boolean passed() {
            return relError < tolerance;
        }
    }

    /**
     * Runs one step node by node, comparing every node's outputs (activations, and KV caches after
     * they are written) with the reference interpreter run on the same weights. Each kernel gets
     * the reference's values of its inputs first (uploaded into their buffers), so an error is the
     * kernel's own, not one inherited from upstream. {@code ref} and {@code state} must have seen
     * the same earlier steps as the runner.
     */
    public List<NodeCheck> checkStep(ReferenceInterpreter ref, ReferenceInterpreter.State state, int[] tokens, int pos) {
        return checkStep(ref, state, tokens, pos, pos < runner.build().shortContext());
    }

    /**
     * {@link #checkStep(ReferenceInterpreter, ReferenceInterpreter.State, int[], int)} through the
     * short-context decode program ({@code shortContext}, where the build has one) or the decode
     * program, whatever the position; a prefill step ignores it. Checking a position through both,
     * one after the other with the same token, is sound: a step writes the same cache rows again.
     * Node by node means each node's own kernels: where the program fuses launches into persistent
     * kernels, those are not what this runs (bench/persistent-compare.sh checks the fused step whole).
     */
    public List<NodeCheck> checkStep(ReferenceInterpreter ref, ReferenceInterpreter.State state, int[] tokens, int pos, boolean shortContext) {
        if (shortContext && runner.build().shortDecode() == null) throw new IllegalArgumentException("the build has no short-context decode program");
        runner.discardQueued();
        var layout = runner.layout();
        var graph = runner.model().graph();
        if (pos == 0) // a new sequence: the reference's caches start at zero, so must ours for whole-cache comparisons
            for (Value st : graph.states()) dev.zero(layout.state(st), BufferLayout.stateBytes(st));
        Map<Value, float[]> expected = new IdentityHashMap<>();
        ref.run(tokens, pos, state, (node, outs) -> {
            for (int i = 0; i < outs.length; i++) expected.put(node.output(i), outs[i].clone());
        });
        // a decode step checks the program its position runs (the short-context one below the threshold)
        Step step = begin(tokens, pos, shortContext);
        Program p = step.program();
        List<GpuRunner.Bound> bound = step.bound();
        List<NodeCheck> out = new ArrayList<>();
        int next = 0;
        Bindings b = Bindings.of("seq", tokens.length);
        // a node with no kernels of its own (rope_kv_append absorbed by the decode attention): its
        // cache updates are checked after the kernels that make them; its q is never materialized
        List<Program.Step> absorbed = new ArrayList<>();
        for (Program.Step s : p.steps()) {
            for (Value in : s.node().inputs()) {
                float[] v = expected.get(in);
                if (v != null && in.kind() == Value.Kind.TEMP && layout.state(in) == null) writeValue(in, v);
            }
            if (s.calls().isEmpty()) {
                absorbed.add(s);
                continue;
            }
            runner.launchAll(bound.subList(next, next + s.calls().size()), tokens.length);
            next += s.calls().size();
            dev.synchronize();
            String kernels = String.join(",", s.calls().stream().map(c -> c.kernel().name()).toList());
            for (Program.Step a : absorbed)
                for (int i = 0; i < a.node().outputs().size(); i++)
                    if (layout.state(a.node().output(i)) != null) out.add(check(a.node(), i, s, kernels, b, expected));
            absorbed.clear();
            for (int i = 0; i < s.node().outputs().size(); i++) out.add(check(s.node(), i, s, kernels, b, expected));
        }
        return out;
    }

    /** A step about to run one kernel at a time: its program and the runner's bound calls of it. */
    private record Step(Program program, List<GpuRunner.Bound> bound) {}

    /**
     * Puts {@code tokens} and {@code pos} on the device and picks the step's program: prefill for several tokens, else
     * the short-context decode program where {@code shortContext}, else the decode program.
     */
    private Step begin(int[] tokens, int pos, boolean shortContext) {
        var layout = runner.layout();
        MemorySegment.copy(tokens, 0, runner.io, GroupQuantizer.U32, 0, tokens.length);
        dev.upload(layout.tokens(), runner.io, 4L * tokens.length);
        runner.io.set(GroupQuantizer.U32, 0, pos);
        dev.upload(layout.pos(), runner.io, 4);
        if (tokens.length != 1) return new Step(runner.prefillProgram(), runner.calls(false));
        return new Step(shortContext ? runner.build().shortDecode() : runner.decodeProgram(), runner.decodeStep(shortContext).calls());
    }

    /**
     * One node's outputs as a step left them on the device: how many values are not finite, and the largest magnitude
     * of the others ({@link #traceStep}).
     */
    public record NodeValues(String node, String kernels, long elements, long nonFinite, double largest) {
        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "%-48s %9d values, %9d not finite, largest |v| %10.4g   %s", node, elements, nonFinite, largest, kernels);
        }
    }

    /**
     * Runs one step of {@code tokens} at {@code pos} kernel by kernel on the device's own values (no reference: each
     * node reads what the nodes before it wrote, as in the model) and reports every node's outputs after its kernels:
     * where a step's values first go non-finite or grow out of range. A decode step ({@code tokens} of one) runs the
     * short-context program where {@code shortContext} (and the build has one), else the decode program. Launched one
     * at a time and synchronized after each, so a fault of ordering between kernels in the captured step does not show here.
     */
    public List<NodeValues> traceStep(int[] tokens, int pos, boolean shortContext) {
        Bindings b = Bindings.of("seq", tokens.length);
        List<NodeValues> out = new ArrayList<>();
        oneByOne(tokens, pos, shortContext, s -> out.addAll(values(s, b)));
        return out;
    }

    /** Runs one step kernel by kernel, synchronized after each node's kernels, then calls {@code after} with the node's step. */
    private void oneByOne(int[] tokens, int pos, boolean shortContext, java.util.function.Consumer<Program.Step> after) {
        if (shortContext && runner.build().shortDecode() == null) throw new IllegalArgumentException("the build has no short-context decode program");
        runner.discardQueued();
        Step step = begin(tokens, pos, shortContext);
        List<GpuRunner.Bound> bound = step.bound();
        int next = 0;
        for (Program.Step s : step.program().steps()) {
            if (s.calls().isEmpty()) continue;
            runner.launchAll(bound.subList(next, next + s.calls().size()), tokens.length);
            next += s.calls().size();
            dev.synchronize();
            after.accept(s);
        }
    }

    /**
     * The logits of one decode step of {@code token} at {@code pos} (through the program generation runs there) two
     * ways: {@code [0]} the captured step, as generation replays it; {@code [1]} the same kernels launched one at a time
     * ({@link #oneByOneLogits}). The same kernels on the same inputs: they must agree (a kernel that reads what the one
     * before it has not finished writing, under programmatic dependent launches, makes them differ).
     */
    public float[][] capturedAndOneByOne(int token, int pos) {
        float[] captured = runner.forward(new int[] {token}, pos);
        return new float[][] {captured, oneByOneLogits(token, pos)};
    }

    /** The logits of one decode step of {@code token} at {@code pos}, its kernels launched one at a time, synchronized after each node's. */
    public float[] oneByOneLogits(int token, int pos) {
        oneByOne(new int[] {token}, pos, runner.build().shortDecode() != null && pos < runner.build().shortContext(), s -> { });
        return readValue(runner.model().graph().outputs().getFirst(), Bindings.of("seq", 1));
    }

    /**
     * What the buffers of {@code program}'s nodes hold now, launching nothing (after a captured step: each buffer's
     * last write, a later layer's where layers share buffers), for a step of {@code seq} tokens.
     */
    public List<NodeValues> valuesNow(Program program, int seq) {
        List<NodeValues> out = new ArrayList<>();
        for (Program.Step s : program.steps()) if (!s.calls().isEmpty()) out.addAll(values(s, Bindings.of("seq", seq)));
        return out;
    }

    private List<NodeValues> values(Program.Step s, Bindings b) {
        String kernels = String.join(",", s.calls().stream().map(c -> c.kernel().name()).toList());
        List<NodeValues> out = new ArrayList<>();
        for (int i = 0; i < s.node().outputs().size(); i++) {
            Value v = s.node().output(i);
            float[] got = readValue(v, b);
            long bad = 0;
            double largest = 0;
            for (float x : got) {
                if (!Float.isFinite(x)) bad++;
                else largest = Math.max(largest, Math.abs(x));
            }
            out.add(new NodeValues(v.ref() + " = " + s.node().op().name() + (s.node().outputs().size() > 1 ? "." + i : ""), kernels, got.length, bad, largest));
        }
        return out;
    }

    /** Output {@code output} of {@code node} against the reference, within the precision of the step whose kernels made it. */
    private NodeCheck check(Node node, int output, Program.Step step, String kernels, Bindings b, Map<Value, float[]> expected) {
        Value v = node.output(output);
        float[] got = readValue(v, b);
        return new NodeCheck(v.ref() + " = " + node.op().name() + (node.outputs().size() > 1 ? "." + output : ""), step.rule(), kernels, relError(got, expected.get(v)), got.length,
                Precision.perNode(step, node, runner.target()));
    }

    /** {@code values} into a value's device buffer, as it stores them (an activation f32 or f16). */
    private void writeValue(Value v, float[] values) {
        dev.upload(runner.layout().tensor(v), HostBytes.encode(runner.host, values, v.type()), HostBytes.size(v.type(), values.length));
    }

    /** A value's device buffer as floats: an activation (f32 or f16) or a KV cache (f32, f16, i8). */
    private float[] readValue(Value v, Bindings b) {
        Long state = runner.layout().state(v);
        long n = state != null ? v.type().shape().numel() : v.type().shape().numel(b);
        return HostBytes.download(dev, runner.host, runner.layout().tensor(v), n, v.type());
    }

    static double relError(float[] got, float[] want) {
        if (got.length != want.length) return Double.NaN;
        double num = 0, den = 0;
        for (int i = 0; i < got.length; i++) {
            if (!Float.isFinite(got[i])) return Double.NaN;
            num += Math.pow(got[i] - want[i], 2);
            den += Math.pow(want[i], 2);
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /**
     * A kernel's device time and the bytes it must read (weights, and the KV cache for attention at the
     * current position), with what the driver reports of it ({@link GpuDevice.LoadedKernel#statistics()}).
     */
    /**
     * What the driver says of each distinct kernel the decode step launches (the captured launches: fused
     * persistent kernels where the build has them), by name in launch order, with the grid a step launches
     * it with ({@link LaunchGrid}, at one token).
     */
    public Map<String, Map<String, String>> decodeLaunchStatistics() {
        Map<String, Map<String, String>> out = new java.util.LinkedHashMap<>();
        for (GpuRunner.Bound b : runner.decodeStep(false).launched()) {
            if (out.containsKey(b.kernel().kernel().name())) continue;
            Map<String, String> m = new java.util.LinkedHashMap<>(b.kernel().statistics());
            int[] grid = LaunchGrid.of(b.kernel(), Map.of("seq", 1));
            m.put("grid", grid[0] + "x" + grid[1] + "x" + grid[2]);
            out.put(b.kernel().kernel().name(), m);
        }
        return out;
    }

    public record KernelTime(String kernel, String rule, String op, float ms, long weightBytes, Map<String, String> statistics) {}

    /**
     * Device milliseconds of each call of the decode program: every kernel's launches over the whole program
     * (each layer's on its own weights) captured into one graph and replayed about {@code reps} times each, so
     * host launch cost does not inflate short kernels and a matrix the L2 could hold is read from memory.
     */
    public List<KernelTime> timeDecodeKernels(int reps) {
        return timeKernels(true, 1, reps);
    }

    /**
     * Per-call device times of the decode program (seq 1) or the prefill program at {@code seq} tokens: each
     * node's own kernels, also where the program launches them fused into persistent kernels. A kernel the program
     * calls n times (once a layer) is timed as its n calls in program order, each with its own arguments, repeated
     * until about {@code reps} launches a call: the bytes each launch reads rotate through the layers' weights, as in
     * a step, where one call replayed would find its matrix in the L2 (the 7B's qkv, 27 MB, within an H200's 50 MB),
     * and every call of the kernel reports the mean.
     */
    public List<KernelTime> timeKernels(boolean decodeProgram, int seq, int reps) {
        runner.discardQueued();
        Program prog = decodeProgram ? runner.decodeProgram() : runner.prefillProgram();
        List<GpuRunner.Bound> bound = runner.calls(decodeProgram);
        record Call(Program.Step step, KernelCall call, GpuRunner.Bound bound) {}
        Map<String, List<Call>> byKernel = new java.util.LinkedHashMap<>();
        List<Call> calls = new ArrayList<>();
        int i = 0;
        for (Program.Step s : prog.steps())
            for (KernelCall c : s.calls()) {
                Call call = new Call(s, c, bound.get(i++));
                calls.add(call);
                byKernel.computeIfAbsent(c.kernel().name(), k -> new ArrayList<>()).add(call);
            }
        Map<String, Float> perCall = new java.util.HashMap<>();
        for (var e : byKernel.entrySet()) {
            List<Call> group = e.getValue();
            int rounds = Math.max(1, reps / group.size());
            // one kernel, so one grid and one set of scalars for all its calls
            int[] grid = LaunchGrid.of(group.get(0).bound().kernel(), Map.of("seq", seq));
            int[] sc = new int[group.get(0).call().kernel().scalars().size()];
            Arrays.fill(sc, seq);
            try (GpuDevice.Captured g = dev.capture(() -> {
                for (int r = 0; r < rounds; r++)
                    for (Call c : group) c.bound().launch().launch(grid, sc);
            })) {
                g.replay(); // warm
                perCall.put(e.getKey(), dev.time(g::replay) / (rounds * group.size()));
            }
        }
        List<KernelTime> out = new ArrayList<>();
        for (Call c : calls) {
            long read = bytesRead(c.call());
            // the embedding kernel reads one row of its table, not all of it
            if (c.step().node().op() instanceof Op.Embed) read /= c.step().node().input(0).type().shape().dim(0).size();
            String name = c.call().kernel().name();
            out.add(new KernelTime(name, c.step().rule(), c.step().node().op().name(), perCall.get(name), read, c.bound().kernel().statistics()));
        }
        return out;
    }

    private static long bytesRead(KernelCall c) {
        long b = 0;
        for (Arg a : c.args()) {
            if (a instanceof Arg.WeightData w) b += ModelWeights.bytesOf(w.param().type()) - (w.param().type().dtype().isQuantized() ? scaleBytes(w.param().type()) : 0);
            if (a instanceof Arg.WeightScales w) b += scaleBytes(w.param().type());
        }
        return b;
    }

    private static long scaleBytes(TensorType t) {
        return t.quant().scaleBytes(t.shape().dim(0).size(), t.shape().dim(1).size());
    }

    /**
     * Host milliseconds per greedy step through {@code forwardAndSample} at positions
     * {@code start + 1 ..}, each waited for before the next (no steps queued ahead): copies,
     * replay, device argmax, sync.
     */
    public double hostStepMillis(int start, int steps) {
        if (start + steps + 1 > runner.maxContext()) throw new IllegalArgumentException("positions up to " + (start + steps) + " exceed the KV cache of " + runner.maxContext());
        Sampler greedy = new Sampler(SamplingParams.GREEDY);
        int[] tok = {1};
        tok[0] = runner.forwardAndSample(tok, start, greedy, tok, 1);
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) tok[0] = runner.forwardAndSample(tok, start + 1 + i, greedy, tok, 1);
        return (System.nanoTime() - t0) / 1e6 / steps;
    }

    /** Device milliseconds of {@code steps} replays of the captured decode step, at the device's current position (for benchmarks). */
    public float timeDecodeSteps(int steps) {
        runner.discardQueued();
        return dev.time(() -> {
            for (int i = 0; i < steps; i++) runner.decodeGraph().replay();
        });
    }

    /**
     * Device milliseconds of one replay of the captured step of the decode program ({@code shortContext}
     * false) or of the short-context program (true), at position {@code pos} (the cache's contents do
     * not matter to the time), over {@code steps} replays; NaN when the build has no short-context program.
     */
    public double decodeStepMillisAt(int pos, boolean shortContext, int steps) {
        if (shortContext && runner.build().shortDecode() == null) return Double.NaN;
        runner.discardQueued();
        runner.io.set(GroupQuantizer.U32, 0, pos);
        dev.upload(runner.layout().pos(), runner.io, 4);
        GpuDevice.Captured g = runner.decodeStep(shortContext).decode();
        g.replay(); // warm
        return dev.time(() -> {
            for (int i = 0; i < steps; i++) g.replay();
        }) / steps;
    }

    /**
     * Device milliseconds of {@code steps} replays of the captured greedy step (decode, argmax,
     * token fed back), positions moving on from where the last step left them.
     */
    public float timeGreedySteps(int steps) {
        runner.discardQueued();
        return dev.time(() -> {
            for (int i = 0; i < steps; i++) runner.greedyStep().replay();
        });
    }
}
