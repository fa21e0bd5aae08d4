package jmlc.engine.runtime.gpu;

import jmlc.compiler.build.Build;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.schedule.Arg;
import jmlc.compiler.schedule.BufferLayout;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Knob;
import jmlc.compiler.schedule.KnobSpace;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.target.Platform;
import jmlc.compiler.target.Target;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.MemoryCheck;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.Progress;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.ModelRunner;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.sampling.Sampler;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a model compiled for a GPU ({@link Build}: the decode and prefill programs and every
 * kernel's source) on any {@link GpuDevice}: compiles the kernels, puts the weights on the device,
 * lays out the rest of device memory ({@link BufferLayout}), captures the decode step once as a
 * device graph and replays it per token, launches the prefill program kernel by kernel, and
 * samples on the device so a token id, not the logits, crosses to the host.
 * Diagnostics (per-node checks, per-kernel times) are {@link GpuDiagnostics}.
 */
public final class GpuRunner implements ModelRunner {
    private final GpuDevice dev;
    private final CompiledModel model;
    private final Build build;
    private final Map<String, GpuDevice.LoadedKernel> kernels = new HashMap<>();
    private final DeviceMemory memory;
    private final BufferLayout<Long> layout;
    private final long sampleParamsAddr, sampleOutAddr;
    private final Value outputValue;
    private final List<Bound> prefillCalls;
    /**
     * The decode program captured (its launches, {@link Program#launched}): alone, with argmax and advance,
     * with sampling and advance; and its steps' calls bound one by one (the same list where nothing is
     * fused), which diagnostics launch node by node.
     */
    record DecodeStep(List<Bound> calls, List<Bound> launched, GpuDevice.Captured decode, GpuDevice.Captured greedy, GpuDevice.Captured sample) implements AutoCloseable {
        @Override
        public void close() {
            for (GpuDevice.Captured g : java.util.Arrays.asList(decode, greedy, sample)) if (g != null) g.close();
            for (Bound b : calls) b.launch().close();
            if (launched != calls) for (Bound b : launched) b.launch().close();
        }
    }
    /** The decode program's step, and the short-context program's (null when the build has none): {@link #stepAt}. */
    private DecodeStep longStep, shortStep;
    /** The device's tokens[0] and pos after a captured decode-and-sample step, or -1 when the host must copy them in. */
    private int chainedToken = -1, chainedPos = -1;
    /** Greedy steps queued ahead of the host, up to {@link #decodeEnd}, the caller's last decode position (-1: none). */
    private final DecodeAhead ahead;
    private int decodeEnd = -1;
    final Arena host = Arena.ofShared();
    final MemorySegment io;
    private final int vocab;
    /** Where pos sits in the pinned buffer, after the longest token list (then sampling parameters, then the sampled id). */
    private final long posAt;
    /** Where a short prompt's positions sit in the pinned buffer, one word per token, after the sampled id. */
    private final long posListAt;
    /** Prompts of at most this many tokens (but more than one) run as decode steps, not as the prefill program. */
    private int shortPrompt;

    /** A kernel call with its arguments bound (parameter memory prepared once). */
    record Bound(GpuDevice.LoadedKernel kernel, long[] buffers, GpuDevice.Launch launch) {}

    /** The runner's own knobs in the tuning database: {@code runner.short_prompt=N}. */
    public static final String RUNNER_KNOBS = "runner";
    /** H100, commit 55cd085: 2 tokens 4.3 ms as decode steps vs 7.7 with the split-K prefill; 4 tokens 8.4 vs 7.8 (7B q4f16_1). */
    public static final int DEFAULT_SHORT_PROMPT = 3;
    /**
     * Vulkan's: its prefill GEMMs have no split-K, so a prompt of one row tile costs a whole tile. H200
     * through NVIDIA's driver, 2026-12-04 (GPU suite, 7B q4f16_1): the prefill program 26 ms for 2 to 64
     * tokens, decode steps 5.0 ms for 2, 9.5 for 4, 18.8 for 8, 37.2 for 16.
     */
    public static final int VULKAN_SHORT_PROMPT = 8;

    /**
     * The runner's knob space: {@code short_prompt}, the longest prompt run as decode steps (0: none); where the
     * target has dependent launches, {@code dependent}: 1 launches every decode program's kernels as programmatic
     * dependents, 0 only a program that triggers early (RuntimeSettings.dependentLaunches; {@code JMLC_PDL} wins).
     * Plain kernels lost under it for Llama-2-7B and gained for 13B (H200, 2026-12-05: 607.9 against 615.7 tok/s;
     * 358.6 against 350.6), so it is the decode-step tuning's to set.
     */
    public static KnobSpace space(Target target, int maxStepTokens) {
        int shortPrompt = target.platform() == Platform.VULKAN ? VULKAN_SHORT_PROMPT : DEFAULT_SHORT_PROMPT;
        KnobSpace s = new KnobSpace(new KernelSignature(RUNNER_KNOBS, "", target))
                .add(Knob.range("short_prompt", Math.min(shortPrompt, maxStepTokens), 0, maxStepTokens,
                        "prompts of at most this many tokens run as captured decode steps, not the prefill program", 0, 2, 3, 4, 6, 8));
        if (target.caps().gridDependency())
            s.add(Knob.oneOf(DEPENDENT, 0, "1: every decode program's kernels launch as programmatic dependents; 0: a program's only where "
                    + "a kernel of it triggers early", 0, 1));
        return s;
    }

    /** The runner knob that launches every decode program as programmatic dependents ({@link #space}). */
    public static final String DEPENDENT = "dependent";

    /** The short-prompt threshold {@code knobs} set for {@code target}, or the default. */
    public static int shortPrompt(Knobs knobs, Target target, int maxStepTokens) {
        KnobSpace s = space(target, maxStepTokens);
        return s.resolve(knobs.values(s.signature())).get("short_prompt");
    }

    /**
     * {@code settings} with the runner's {@code dependent} knob from {@code knobs} where the settings leave it to
     * each program (programmaticLaunch null): 1 makes it every program's.
     */
    public static RuntimeSettings withDependentKnob(RuntimeSettings settings, Knobs knobs, Target target, int maxStepTokens) {
        if (settings.programmaticLaunch() != null || !target.caps().gridDependency()) return settings;
        KnobSpace s = space(target, maxStepTokens);
        return s.resolve(knobs.values(s.signature())).get(DEPENDENT) == 1 ? settings.programmaticLaunch(true) : settings;
    }

    /**
     * @param build       the model compiled for {@code dev}'s target
     * @param shortPrompt prompts of at most this many tokens run as decode steps ({@link #shortPrompt(Knobs, Target, int)})
     */
    public GpuRunner(GpuDevice dev, CompiledModel model, ModelWeights weights, Build build, int shortPrompt, RuntimeSettings settings, Progress progress) {
        if (!build.target().equals(dev.target()))
            throw new IllegalArgumentException("the model was compiled for " + build.target() + "; " + dev.info().id() + " is " + dev.target());
        this.dev = dev;
        this.model = model;
        this.build = build;
        Graph g = model.graph();
        this.vocab = model.config().vocabSize();
        this.outputValue = g.outputs().getFirst();
        int maxStep = model.maxStepTokens();
        // per-token copies go through page-locked memory: tokens, pos, one logits row, the sampled id,
        // and the positions of a short prompt's steps
        this.io = dev.pinned(Math.max(4L * maxStep, 4L * vocab) + 64 + 4L * maxStep);
        this.posAt = 4L * maxStep;
        this.posListAt = Math.max(4L * maxStep, 4L * vocab) + 64;
        this.shortPrompt = Math.clamp(shortPrompt, 0, maxStep);
        this.memory = new DeviceMemory(dev);
        try {
            checkDeviceMemory();
            compileKernels(progress);
            DeviceWeights w = new DeviceWeights(dev, memory, g, weights, progress);
            this.layout = new BufferLayout<>(g, model.pipeline().memory(), build.programs(), maxStep, new BufferLayout.Memory<>() {
                @Override
                public Long zeroed(long bytes, String what) {
                    return memory.zeroed(bytes, what);
                }

                @Override
                public Long constant(float[] values, String what) {
                    MemorySegment seg = host.allocate(4L * values.length, 16);
                    MemorySegment.copy(values, 0, seg, GroupQuantizer.F32, 0, values.length);
                    return memory.upload(seg, seg.byteSize(), what);
                }

                @Override
                public Long weightData(Value param) {
                    return w.data(param);
                }

                @Override
                public Long weightScales(Value param) {
                    return w.scales(param);
                }

                @Override
                public Long offset(Long buffer, long bytes) {
                    return buffer + bytes;
                }
            });
            this.sampleParamsAddr = memory.alloc(8, "sampling parameters");
            this.sampleOutAddr = memory.alloc(4, "sampled token");
            // decode launches may overlap the drain of the one before (RuntimeSettings.dependentLaunches: where a kernel
            // triggers early, or as set); prefill's do not: its GEMMs were 11% slower so (H200, 2026-12-03)
            this.prefillCalls = bind(build.prefill().launched(), false);
            // decode, choose, and feed the choice back as the next step's token and position (one kernel): one
            // replay and one 4-byte copy out per generated token
            long logits = lastLogitsRow(1);
            GpuDevice.Launch greedy = dev.prepare(kernel(build.sampling().argmaxAndAdvance().name()), new long[] {logits, sampleOutAddr, layout.tokens(), layout.pos()});
            GpuDevice.Launch draw = dev.prepare(kernel(build.sampling().sampleAndAdvance().name()),
                    new long[] {logits, sampleParamsAddr, sampleOutAddr, layout.tokens(), layout.pos()});
            samplers.put("argmax and advance", greedy);
            samplers.put("sample and advance", draw);
            this.longStep = capture(build.decode(), settings.dependentLaunches(build.decode()), greedy, draw);
            if (build.shortDecode() != null) this.shortStep = capture(build.shortDecode(), settings.dependentLaunches(build.shortDecode()), greedy, draw);
            // steps in flight: while the host takes one token, the device computes the next
            this.ahead = new DecodeAhead(dev, pos -> stepAt(pos).greedy(), sampleOutAddr, settings.decodeAhead());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * {@code program} bound ({@code dependent}: as programmatic dependents) and captured three ways: alone, then
     * argmax and advance, then sampling and advance.
     */
    private DecodeStep capture(Program program, boolean dependent, GpuDevice.Launch greedy, GpuDevice.Launch draw) {
        List<Bound> calls = bind(program.calls(), dependent);
        List<Bound> launched = program.fused() ? bind(program.launched(), dependent) : calls;
        return new DecodeStep(calls, launched, dev.capture(() -> launchAll(launched, 1)),
                dev.capture(() -> {
                    launchAll(launched, 1);
                    greedy.launch(ONE, NO_SCALARS);
                }),
                dev.capture(() -> {
                    launchAll(launched, 1);
                    draw.launch(ONE, NO_SCALARS);
                }));
    }

    /** The captured decode step a step at {@code pos} replays: the short-context program's below the build's threshold. */
    DecodeStep stepAt(int pos) {
        return shortStep != null && pos < build.shortContext() ? shortStep : longStep;
    }

    /** The captured step of the short-context program ({@code shortContext}; the decode program's where there is none) or of the decode program. */
    DecodeStep decodeStep(boolean shortContext) {
        return shortContext && shortStep != null ? shortStep : longStep;
    }

    /** Refuses a model the device has no room for, before any kernel is compiled or byte allocated (MemoryCheck). */
    private void checkDeviceMemory() {
        if (!MemoryCheck.enabled()) return;
        // each scratch and constant once, by name, as BufferLayout allocates them (a fused launch binds its members' again)
        Map<String, Long> scratch = new HashMap<>(), constantBytes = new HashMap<>();
        for (Program p : build.programs())
            for (KernelCall c : java.util.stream.Stream.concat(p.calls().stream(), p.launched().stream()).toList())
                for (Arg a : c.args()) {
                    if (a instanceof Arg.Scratch s) scratch.merge(s.name(), s.bytes(), Math::max);
                    if (a instanceof Arg.Constant k) constantBytes.putIfAbsent(k.name(), 4L * k.values().length);
                }
        long constants = constantBytes.values().stream().mapToLong(Long::longValue).sum();
        MemoryCheck.Need need = MemoryCheck.need(model, ModelWeights.bytesOf(model.graph()));
        need = new MemoryCheck.Need(need.weights(), need.kvCache(), need.activations() + constants + scratch.values().stream().mapToLong(Long::longValue).sum());
        MemoryCheck.require("this model (" + model.config().architecture().name().toLowerCase(java.util.Locale.ROOT) + ", "
                        + model.config().parameterCount() / 1_000_000 + "M parameters, " + model.quant() + ")", dev.info().id(), need,
                new MemoryCheck.Available(dev.freeBytes(), "free memory " + dev.info().id() + "'s driver reports"), MemoryCheck.advice(model));
    }

    // ---- kernels ----

    /** Compiles every kernel of the build on the device, several at once (a runtime compiler is the slow part of loading). */
    private void compileKernels(Progress progress) {
        List<Kernel> all = build.kernels();
        String what = "compiling kernels for " + dev.target();
        AtomicInteger done = new AtomicInteger();
        progress.update(what, 0, all.size());
        Map<String, GpuDevice.LoadedKernel> loaded = new ConcurrentHashMap<>();
        all.parallelStream().forEach(k -> {
            loaded.put(k.name(), dev.load(k, build.source(k.name())));
            progress.update(what, done.incrementAndGet(), all.size());
        });
        kernels.putAll(loaded);
    }

    private GpuDevice.LoadedKernel kernel(String name) {
        GpuDevice.LoadedKernel k = kernels.get(name);
        if (k == null) throw new IllegalStateException("kernel " + name + " was not compiled");
        return k;
    }

    private List<Bound> bind(List<KernelCall> calls, boolean dependent) {
        List<Bound> out = new ArrayList<>();
        for (KernelCall c : calls) {
            long[] addr = layout.bind(c).stream().mapToLong(Long::longValue).toArray();
            GpuDevice.LoadedKernel k = kernel(c.kernel().name());
            out.add(new Bound(k, addr, dev.prepare(k, addr, dependent)));
        }
        return out;
    }

    /** Queues {@code calls} for a step of {@code seq} tokens. */
    void launchAll(List<Bound> calls, int seq) {
        Map<String, Integer> scalars = Map.of("seq", seq);
        for (Bound b : calls) {
            Kernel k = b.kernel().kernel();
            int[] sc = new int[k.scalars().size()];
            for (int i = 0; i < sc.length; i++) sc[i] = scalars.get(k.scalars().get(i).name());
            b.launch().launch(LaunchGrid.of(b.kernel(), scalars), sc);
        }
    }

    // ---- steps ----

    /** Queues one step: tokens and pos copied in, then the captured decode graph or the prefill launches. */
    private int step(int[] tokens, int pos) {
        discardQueued();
        if (tokens.length > model.maxStepTokens()) throw new IllegalArgumentException(tokens.length + " tokens in one step; the most is " + model.maxStepTokens());
        if (pos + tokens.length > maxContext()) throw new IllegalArgumentException("positions " + pos + ".." + (pos + tokens.length - 1) + " exceed the KV cache of " + maxContext());
        MemorySegment.copy(tokens, 0, io, GroupQuantizer.U32, 0, tokens.length);
        if (tokens.length > 1 && tokens.length <= shortPrompt && outputRows(tokens.length) == 1) {
            // a few tokens: one captured decode step each (GEMVs at full bandwidth, 2.2 ms for a 7B on the
            // H100) beats the prefill program's fixed cost (its GEMMs' f16 tiles and split-K reduction:
            // about 7.7 ms for any prompt up to 8 tokens); see DEFAULT_SHORT_PROMPT
            for (int i = 0; i < tokens.length; i++) {
                long at = posListAt + 4L * i; // a pinned word per step: the copies run after this loop returns
                io.set(GroupQuantizer.U32, at, pos + i);
                dev.uploadAsync(layout.tokens(), io.asSlice(4L * i), 4);
                dev.uploadAsync(layout.pos(), io.asSlice(at), 4);
                stepAt(pos + i).decode().replay();
            }
            return 1;
        }
        io.set(GroupQuantizer.U32, posAt, pos);
        dev.uploadAsync(layout.tokens(), io, 4L * tokens.length);
        dev.uploadAsync(layout.pos(), io.asSlice(posAt), 4);
        if (tokens.length == 1) stepAt(pos).decode().replay();
        else launchAll(prefillCalls, tokens.length);
        return outputRows(tokens.length);
    }

    /** Sets the short-prompt threshold (0: every prompt runs the prefill program). */
    public void shortPrompt(int tokens) {
        shortPrompt = Math.clamp(tokens, 0, model.maxStepTokens());
    }

    private int outputRows(int seq) {
        return outputValue.type().shape().dim(0).isFixed() ? (int) outputValue.type().shape().dim(0).size() : seq;
    }

    @Override
    public float[] forward(int[] tokens, int pos) {
        int rows = step(tokens, pos);
        long n = (long) rows * vocab;
        // one row fits the pinned buffer; all-position logits (jmlc logits) take a plain copy
        MemorySegment dst = rows == 1 ? io : host.allocate(4 * n, 64);
        if (rows == 1) {
            dev.downloadAsync(dst, layout.tensor(outputValue), 4 * n);
            dev.synchronize();
        } else {
            dev.download(dst, layout.tensor(outputValue), 4 * n);
        }
        float[] out = new float[(int) n];
        MemorySegment.copy(dst, GroupQuantizer.F32, 0, out, 0, (int) n);
        return out;
    }

    /** Queues the step and returns: no logits come back and the host does not wait (a long prompt's chunks before its last). */
    @Override
    public void prefill(int[] tokens, int pos) {
        step(tokens, pos);
    }

    @Override
    public int forwardAndSample(int[] tokens, int pos, Sampler sampler, int[] context, int contextLength) {
        if (!sampler.deviceSamplable()) return ModelRunner.super.forwardAndSample(tokens, pos, sampler, context, contextLength);
        boolean greedy = sampler.params().greedy();
        if (greedy && tokens.length == 1) {
            OptionalInt queued = ahead.take(tokens[0], pos);
            if (queued.isPresent()) return queued.getAsInt();
        }
        ahead.discard();
        if (!greedy) {
            MemorySegment params = io.asSlice(posAt + 16, 8);
            params.setAtIndex(GroupQuantizer.F32, 0, (float) (1 / sampler.params().temperature()));
            params.setAtIndex(GroupQuantizer.F32, 1, (float) sampler.nextUniform());
            dev.uploadAsync(sampleParamsAddr, params, 8);
        }
        if (tokens.length == 1) {
            if (pos + 1 > maxContext()) throw new IllegalArgumentException("position " + pos + " exceeds the KV cache of " + maxContext());
            chain(tokens[0], pos);
            DecodeStep step = stepAt(pos);
            (greedy ? step.greedy() : step.sample()).replay();
        } else {
            int rows = step(tokens, pos);
            (greedy ? argmax(rows) : sample(rows)).launch(ONE, NO_SCALARS);
        }
        MemorySegment result = io.asSlice(posAt + 32, 4);
        dev.downloadAsync(result, sampleOutAddr, 4);
        dev.synchronize();
        int token = result.get(GroupQuantizer.U32, 0);
        chainedToken = tokens.length == 1 ? token : -1;
        chainedPos = tokens.length == 1 ? pos + 1 : -1;
        int next = pos + tokens.length;
        if (greedy && next <= Math.min(decodeEnd, maxContext() - 1)) {
            chain(token, next);
            ahead.start(token, next, Math.min(decodeEnd, maxContext() - 1));
            chainedPos = -1; // the device moves on by itself
        }
        return token;
    }

    /** Puts {@code token} and {@code pos} on the device for the next captured step, unless the last one left them there. */
    private void chain(int token, int pos) {
        if (token == chainedToken && pos == chainedPos) return;
        io.set(GroupQuantizer.U32, 0, token);
        io.set(GroupQuantizer.U32, posAt, pos);
        dev.uploadAsync(layout.tokens(), io, 4);
        dev.uploadAsync(layout.pos(), io.asSlice(posAt), 4);
    }

    /** Drops greedy steps queued ahead and forgets what the device's tokens and pos hold (before any other use of the device). */
    void discardQueued() {
        ahead.discard();
        chainedPos = -1;
    }

    @Override
    public void decodeLimit(int lastPos) {
        decodeEnd = lastPos;
    }

    static final int[] ONE = {1, 1, 1}, NO_SCALARS = {};
    private final Map<String, GpuDevice.Launch> samplers = new HashMap<>();

    /** The device address of the last logits row of a step of {@code rows} output rows. */
    private long lastLogitsRow(int rows) {
        return layout.tensor(outputValue) + 4L * (rows - 1) * vocab;
    }

    /** The argmax launch over the last logits row of a step of {@code rows} output rows (prepared once per row count). */
    private GpuDevice.Launch argmax(int rows) {
        long lastRow = lastLogitsRow(rows);
        return samplers.computeIfAbsent("argmax" + rows, k -> dev.prepare(kernel(build.sampling().argmax().name()), new long[] {lastRow, sampleOutAddr}));
    }

    private GpuDevice.Launch sample(int rows) {
        long lastRow = lastLogitsRow(rows);
        return samplers.computeIfAbsent("sample" + rows, k -> dev.prepare(kernel(build.sampling().sample().name()), new long[] {lastRow, sampleParamsAddr, sampleOutAddr}));
    }

    // ---- what diagnostics and benchmarks see ----

    /** The build this runner runs: its target, programs and kernel sources. */
    public Build build() {
        return build;
    }

    public Program decodeProgram() {
        return build.decode();
    }

    public Program prefillProgram() {
        return build.prefill();
    }

    public GpuDevice gpu() {
        return dev;
    }

    BufferLayout<Long> layout() {
        return layout;
    }

    /** The bound launches of the decode program, or of the prefill program. */
    List<Bound> calls(boolean decodeProgram) {
        return decodeProgram ? longStep.calls() : prefillCalls;
    }

    /** The decode program a step at {@code pos} runs (the short-context one below the build's threshold). */
    public Program decodeProgram(int pos) {
        return build.decodeAt(pos);
    }

    /** The captured decode step of the decode program (beyond the short-context threshold). */
    GpuDevice.Captured decodeGraph() {
        return longStep.decode();
    }

    GpuDevice.Captured greedyStep() {
        return longStep.greedy();
    }

    @Override
    public DeviceInfo device() {
        return dev.info();
    }

    /** The target this runner's kernels were compiled for. */
    public Target target() {
        return dev.target();
    }

    @Override
    public CompiledModel model() {
        return model;
    }

    @Override
    public void close() {
        try {
            if (ahead != null) ahead.close();
            for (DecodeStep st : java.util.Arrays.asList(longStep, shortStep)) if (st != null) st.close();
        } catch (RuntimeException e) {
            // closing anyway
        }
        if (prefillCalls != null) for (Bound b : prefillCalls) b.launch().close();
        samplers.values().forEach(GpuDevice.Launch::close);
        memory.close();
        host.close();
        dev.close(); // the runner owns its device handle
    }
}
