package jmlc.engine.runtime.gpu;

import jmlc.compiler.codegen.CEmitter;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.GridEval;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.pass.MemoryPlan;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.quant.Half;
import jmlc.compiler.schedule.Arg;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.schedule.SamplingKernels;
import jmlc.compiler.build.Scheduler;
import jmlc.compiler.tensor.HostTensor;
import jmlc.engine.sampling.Sampler;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.MemoryCheck;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.Progress;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.ModelRunner;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a compiled model on any {@link GpuDevice}: schedules the graph into a decode program
 * (one token, captured once as a device graph and replayed per token) and a prefill program
 * (up to {@code maxStepTokens} tokens, launched kernel by kernel), compiles every kernel, lays
 * out device memory (weights, one buffer per memory-plan slot, KV caches, constants, scratch),
 * and samples on the device so a token id, not the logits, crosses to the host.
 */
public final class GpuRunner implements ModelRunner {
    private final GpuDevice dev;
    private final CompiledModel model;
    private final ModelWeights weights;
    private final Program decode, prefill;
    private final Map<String, GpuDevice.LoadedKernel> kernels = new HashMap<>();
    private final List<Long> allocations = new ArrayList<>();
    private final Map<Value, long[]> weightAddr = new IdentityHashMap<>();
    private final Map<Value, Long> stateAddr = new IdentityHashMap<>();
    private final Map<String, Long> named = new HashMap<>();
    private final long[] slotAddr;
    private final long tokensAddr, posAddr, sampleParamsAddr, sampleOutAddr;
    private final Value tokensValue, posValue, outputValue;
    private final MemoryPlan plan;
    private final List<Bound> decodeCalls, prefillCalls;
    private final GpuDevice.Captured decodeGraph, greedyStep, sampleStep;
    /** The device's tokens[0] and pos after a captured decode-and-sample step, or -1 when the host must copy them in. */
    private int chainedToken = -1, chainedPos = -1;
    /** Greedy steps queued ahead of the host, up to {@link #decodeEnd}, the caller's last decode position (-1: none). */
    private final DecodeAhead ahead;
    private int decodeEnd = -1;
    private final Arena host = Arena.ofShared();
    private final MemorySegment io;
    private final int vocab;

    /** A kernel call with its arguments bound (parameter memory prepared once). */
    private record Bound(GpuDevice.LoadedKernel kernel, long[] buffers, GpuDevice.Launch launch) {}

    public GpuRunner(GpuDevice dev, CompiledModel model, ModelWeights weights, Knobs knobs, Progress progress) {
        this.dev = dev;
        this.model = model;
        this.weights = weights;
        Graph g = model.graph();
        this.plan = model.pipeline().memory();
        this.vocab = model.config().vocabSize();
        this.decode = Scheduler.schedule(g, dev.target(), true, 1, knobs);
        this.prefill = Scheduler.schedule(g, dev.target(), false, model.maxStepTokens(), knobs);
        this.tokensValue = g.input("tokens");
        this.posValue = g.input("pos");
        this.outputValue = g.outputs().getFirst();
        // per-token copies go through page-locked memory: tokens, pos, one logits row, the sampled id,
        // and the positions of a short prompt's steps
        this.io = dev.pinned(Math.max(4L * model.maxStepTokens(), 4L * vocab) + 64 + 4L * model.maxStepTokens());
        this.posAt = 4L * model.maxStepTokens();
        this.posListAt = Math.max(4L * model.maxStepTokens(), 4L * vocab) + 64;
        this.shortPrompt = Math.clamp(knobs.get(RUNNER_KNOBS, "short_prompt", DEFAULT_SHORT_PROMPT), 0, model.maxStepTokens());
        try {
            checkDeviceMemory();
            compileKernels(progress);
            uploadWeights(g, progress);
            this.slotAddr = plan.slotBytes().stream().mapToLong(b -> alloc(b, "activations")).toArray();
            for (Value s : g.states()) {
                long bytes = s.type().shape().numel() * (s.type().dtype().bits() / 8);
                long a = alloc(bytes, s.name());
                dev.zero(a, bytes);
                stateAddr.put(s, a);
            }
            for (var e : g.stateUpdates().entrySet()) stateAddr.put(e.getValue(), stateAddr.get(e.getKey()));
            this.tokensAddr = alloc(4L * model.maxStepTokens(), "tokens");
            this.posAddr = alloc(4, "pos");
            this.sampleParamsAddr = alloc(8, "sampling parameters");
            this.sampleOutAddr = alloc(4, "sampled token");
            allocateNamed(List.of(decode, prefill));
            this.decodeCalls = bind(decode);
            this.prefillCalls = bind(prefill);
            this.decodeGraph = dev.capture(() -> launchAll(decodeCalls, 1));
            // decode, choose, and feed the choice back as the next step's token and position: one replay and one
            // 4-byte copy out per generated token
            GpuDevice.Launch advance = dev.prepare(kernels.get(SamplingKernels.advance().name()), new long[] {sampleOutAddr, tokensAddr, posAddr});
            samplers.put("advance", advance);
            this.greedyStep = dev.capture(() -> {
                launchAll(decodeCalls, 1);
                argmax(1).launch(ONE, NO_SCALARS);
                advance.launch(ONE, NO_SCALARS);
            });
            this.sampleStep = dev.capture(() -> {
                launchAll(decodeCalls, 1);
                sample(1).launch(ONE, NO_SCALARS);
                advance.launch(ONE, NO_SCALARS);
            });
            // two in flight: while the host takes one token, the device computes the next ($JMLC_DECODE_AHEAD=0: none)
            this.ahead = new DecodeAhead(dev, greedyStep, sampleOutAddr, decodeAheadDepth());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static int decodeAheadDepth() {
        String v = System.getenv("JMLC_DECODE_AHEAD");
        if (v == null || v.isBlank()) return 2;
        try {
            int d = Integer.parseInt(v.trim());
            if (d >= 0 && d <= 8) return d;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("JMLC_DECODE_AHEAD must be a whole number from 0 to 8 (greedy steps queued ahead), found '" + v + "'");
    }

    /** Refuses a model the device has no room for, before any kernel is compiled or byte allocated (MemoryCheck). */
    private void checkDeviceMemory() {
        if (!MemoryCheck.enabled()) return;
        Map<String, Long> scratch = new HashMap<>();
        long constants = 0;
        for (Program p : List.of(decode, prefill))
            for (KernelCall c : p.calls())
                for (Arg a : c.args()) {
                    if (a instanceof Arg.Scratch s) scratch.merge(s.name(), s.bytes(), Math::max);
                    if (a instanceof Arg.Constant k) constants += 4L * k.values().length;
                }
        MemoryCheck.Need need = MemoryCheck.need(model, ModelWeights.bytesOf(model.graph()));
        need = new MemoryCheck.Need(need.weights(), need.kvCache(), need.activations() + constants + scratch.values().stream().mapToLong(Long::longValue).sum());
        MemoryCheck.require("this model (" + model.config().architecture().name().toLowerCase(java.util.Locale.ROOT) + ", "
                        + model.config().parameterCount() / 1_000_000 + "M parameters, " + model.quant() + ")", dev.info().id(), need,
                new MemoryCheck.Available(dev.freeBytes(), "free memory " + dev.info().id() + "'s driver reports"), MemoryCheck.advice(model));
    }

    private long alloc(long bytes, String what) {
        long a = dev.alloc(bytes, what);
        allocations.add(a);
        return a;
    }

    // ---- kernels ----

    private void compileKernels(Progress progress) {
        Map<String, Kernel> all = new LinkedHashMap<>();
        for (Kernel k : decode.kernels()) Program.sameOrNew(all, k);
        for (Kernel k : prefill.kernels()) Program.sameOrNew(all, k);
        int warp = dev.target().warpSize();
        for (Kernel k : List.of(SamplingKernels.argmax(vocab, warp), SamplingKernels.sample(vocab, warp), SamplingKernels.advance())) all.put(k.name(), k);
        for (Kernel k : all.values())
            if (k.sharedBytes() > dev.target().maxSharedBytes())
                throw new GpuException("kernel " + k.name() + " needs " + k.sharedBytes() + " bytes of shared memory; " + dev.info().id() + " allows " + dev.target().maxSharedBytes());
        CEmitter emitter = new CEmitter(dev.target().dialect());
        AtomicInteger done = new AtomicInteger();
        progress.update("compiling kernels for " + dev.target(), 0, all.size());
        Map<String, GpuDevice.LoadedKernel> loaded = new java.util.concurrent.ConcurrentHashMap<>();
        all.values().parallelStream().forEach(k -> {
            loaded.put(k.name(), dev.load(k, emitter.emit(k)));
            progress.update("compiling kernels for " + dev.target(), done.incrementAndGet(), all.size());
        });
        kernels.putAll(loaded);
    }

    private GpuDevice.LoadedKernel kernel(String name) {
        GpuDevice.LoadedKernel k = kernels.get(name);
        if (k == null) throw new IllegalStateException("kernel " + name + " was not compiled");
        return k;
    }

    // ---- memory ----

    private void uploadWeights(Graph g, Progress progress) {
        long total = ModelWeights.bytesOf(g), done = 0;
        int salt = 0;
        for (Value p : g.params()) {
            TensorType t = p.type();
            if (weights.synthetic()) {
                weightAddr.put(p, synthetic(p, t, ++salt));
            } else {
                HostTensor h = weights.get(p);
                if (!h.matches(t)) throw new IllegalStateException("weight " + p.name() + " is stored as " + h + ", the graph expects " + t);
                weightAddr.put(p, switch (h) {
                    case HostTensor.Dense d -> new long[] {upload(d.data(), d.byteSize(), p.name())};
                    case HostTensor.Quantized q -> new long[] {upload(q.data(), q.scheme().dataBytes(q.rows(), q.cols()), p.name()),
                            upload(q.scales(), q.scheme().scaleBytes(q.rows(), q.cols()), p.name() + " scales")};
                });
            }
            done += bytes(t);
            progress.update((weights.synthetic() ? "making random weights on " : "uploading weights to ") + dev.info().id(), done, total);
        }
    }

    private long upload(MemorySegment src, long bytes, String what) {
        long a = alloc(bytes, what);
        dev.upload(a, src, bytes);
        return a;
    }

    private static long bytes(TensorType t) {
        if (!t.dtype().isQuantized()) return t.shape().numel() * (t.dtype().bits() / 8);
        long r = t.shape().dim(0).size(), c = t.shape().dim(1).size();
        return t.quant().dataBytes(r, c) + t.quant().scaleBytes(r, c);
    }

    /** Random weights made on the device with the fill kernels; norms are ones. */
    private long[] synthetic(Value p, TensorType t, int salt) {
        final float std = 0.02f;
        if (t.dtype().isQuantized()) {
            long r = t.shape().dim(0).size(), c = t.shape().dim(1).size();
            long data = fill(t.quant().dataBytes(r, c), p.name(), SyntheticFill.Kind.RANDOM_BITS, 0, 0, salt);
            float scale = t.quant().bits() == 4 ? std / 4.6f : std / 73.9f;
            int word = t.quant().scaleType() == DType.F16 ? (Half.fromFloat(scale) & 0xffff) * 0x10001 : Float.floatToIntBits(scale);
            long scales = fill(t.quant().scaleBytes(r, c), p.name() + " scales", SyntheticFill.Kind.CONSTANT, 0, word, salt);
            return new long[] {data, scales};
        }
        boolean norm = t.shape().rank() == 1 && p.name().endsWith("norm.weight");
        long bytes = bytes(t);
        float amp = (float) (std * Math.sqrt(3));
        if (t.dtype() == DType.F16)
            return new long[] {norm ? fill(bytes, p.name(), SyntheticFill.Kind.CONSTANT, 0, 0x3C003C00, salt) : fill(bytes, p.name(), SyntheticFill.Kind.RANDOM_F16, amp, 0, salt)};
        if (t.dtype() == DType.F32)
            return new long[] {norm ? fill(bytes, p.name(), SyntheticFill.Kind.CONSTANT, 0, Float.floatToIntBits(1f), salt) : fill(bytes, p.name(), SyntheticFill.Kind.RANDOM_F32, amp, 0, salt)};
        throw new IllegalStateException("no synthetic " + t);
    }

    private long fill(long bytes, String what, SyntheticFill.Kind kind, float amplitude, int word, int salt) {
        long a = alloc(bytes + 4, what);
        SyntheticFill.fill(dev, kernels, a, bytes, kind, amplitude, word, salt);
        return a;
    }

    /** Constants and scratch buffers of the programs, by name (a scratch buffer sized for its largest use in any). */
    private void allocateNamed(List<Program> programs) {
        Map<String, Long> scratchBytes = new LinkedHashMap<>();
        for (Program p : programs) for (KernelCall c : p.calls())
            for (Arg a : c.args()) {
                if (a instanceof Arg.Scratch s) scratchBytes.merge(s.name(), s.bytes(), Math::max);
                if (a instanceof Arg.Constant k && !named.containsKey("const:" + k.name())) {
                    MemorySegment seg = host.allocate(4L * k.values().length, 16);
                    MemorySegment.copy(k.values(), 0, seg, GroupQuantizer.F32, 0, k.values().length);
                    named.put("const:" + k.name(), upload(seg, seg.byteSize(), "constant " + k.name()));
                }
            }
        for (var e : scratchBytes.entrySet()) { // zeroed, so no kernel can read garbage from a scratch buffer it did not write
            long a = alloc(e.getValue(), "scratch " + e.getKey());
            dev.zero(a, e.getValue());
            named.put("scratch:" + e.getKey(), a);
        }
    }

    private List<Bound> bind(Program p) {
        List<Bound> out = new ArrayList<>();
        for (KernelCall c : p.calls()) {
            long[] addr = new long[c.args().size()];
            for (int i = 0; i < addr.length; i++) addr[i] = resolve(c.args().get(i));
            GpuDevice.LoadedKernel k = kernel(c.kernel().name());
            out.add(new Bound(k, addr, dev.prepare(k, addr)));
        }
        return out;
    }

    private long resolve(Arg a) {
        return switch (a) {
            case Arg.Tensor t -> tensor(t.value());
            case Arg.WeightData w -> weightAddr.get(w.param())[0];
            case Arg.WeightScales w -> weightAddr.get(w.param())[1];
            case Arg.Constant c -> named.get("const:" + c.name());
            case Arg.Scratch s -> named.get("scratch:" + s.name());
        };
    }

    private long tensor(Value v) {
        if (v == tokensValue) return tokensAddr;
        if (v == posValue) return posAddr;
        Long s = stateAddr.get(v);
        if (s != null) return s;
        long[] w = weightAddr.get(v);
        if (w != null) return w[0];
        return slotAddr[plan.slot(v)];
    }

    private void launchAll(List<Bound> calls, int seq) {
        Map<String, Integer> scalars = Map.of("seq", seq);
        for (Bound b : calls) {
            Kernel k = b.kernel().kernel();
            int[] sc = new int[k.scalars().size()];
            for (int i = 0; i < sc.length; i++) sc[i] = scalars.get(k.scalars().get(i).name());
            b.launch().launch(GridEval.grid(k, scalars), sc);
        }
    }

    // ---- steps ----

    /** Queues one step: tokens and pos copied in, then the captured decode graph or the prefill launches. */
    private int step(int[] tokens, int pos) {
        ahead.discard();
        chainedPos = -1;
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
                dev.uploadAsync(tokensAddr, io.asSlice(4L * i), 4);
                dev.uploadAsync(posAddr, io.asSlice(at), 4);
                decodeGraph.replay();
            }
            return 1;
        }
        io.set(GroupQuantizer.U32, posAt, pos);
        dev.uploadAsync(tokensAddr, io, 4L * tokens.length);
        dev.uploadAsync(posAddr, io.asSlice(posAt), 4);
        if (tokens.length == 1) decodeGraph.replay();
        else launchAll(prefillCalls, tokens.length);
        return outputRows(tokens.length);
    }

    /** Where pos sits in the pinned buffer, after the longest token list (then sampling parameters, then the sampled id). */
    private final long posAt;
    /** Where a short prompt's positions sit in the pinned buffer, one word per token, after the sampled id. */
    private final long posListAt;

    /** The runner's own knobs in the tuning database: {@code runner.short_prompt=N}. */
    public static final String RUNNER_KNOBS = "runner";
    /** H100, commit 55cd085: 2 tokens 4.3 ms as decode steps vs 7.7 with the split-K prefill; 4 tokens 8.4 vs 7.8 (7B q4f16_1). */
    public static final int DEFAULT_SHORT_PROMPT = 3;
    /** Prompts of at most this many tokens (but more than one) run as decode steps, not as the prefill program. */
    private int shortPrompt;

    /** Sets the short-prompt threshold (0: every prompt runs the prefill program); the default is the knob {@code runner.short_prompt}, else {@link #DEFAULT_SHORT_PROMPT}. */
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
            dev.downloadAsync(dst, slotAddr[plan.slot(outputValue)], 4 * n);
            dev.synchronize();
        } else {
            dev.download(dst, slotAddr[plan.slot(outputValue)], 4 * n);
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
            (greedy ? greedyStep : sampleStep).replay();
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
        dev.uploadAsync(tokensAddr, io, 4);
        dev.uploadAsync(posAddr, io.asSlice(posAt), 4);
    }

    @Override
    public void decodeLimit(int lastPos) {
        decodeEnd = lastPos;
    }

    private static final int[] ONE = {1, 1, 1}, NO_SCALARS = {};
    private final Map<String, GpuDevice.Launch> samplers = new HashMap<>();

    /** The argmax launch over the last logits row of a step of {@code rows} output rows (prepared once per row count). */
    private GpuDevice.Launch argmax(int rows) {
        long lastRow = slotAddr[plan.slot(outputValue)] + 4L * (rows - 1) * vocab;
        return samplers.computeIfAbsent("argmax" + rows, k -> dev.prepare(kernels.get(SamplingKernels.argmax(vocab, dev.target().warpSize()).name()), new long[] {lastRow, sampleOutAddr}));
    }

    private GpuDevice.Launch sample(int rows) {
        long lastRow = slotAddr[plan.slot(outputValue)] + 4L * (rows - 1) * vocab;
        return samplers.computeIfAbsent("sample" + rows, k -> dev.prepare(kernels.get(SamplingKernels.sample(vocab, dev.target().warpSize()).name()), new long[] {lastRow, sampleParamsAddr, sampleOutAddr}));
    }

    /** One node's output on the device against the reference interpreter's: ‖Δ‖/‖ref‖ over {@code elements} values. */
    public record NodeCheck(String node, String rule, String kernels, double relError, long elements) {}

    /**
     * Runs one step node by node, comparing every node's outputs (activations, and KV caches after
     * they are written) with the reference interpreter run on the same weights. Each kernel gets
     * the reference's values of its inputs first (uploaded into their buffers), so an error is the
     * kernel's own, not one inherited from upstream. {@code ref} and {@code state} must have seen
     * the same earlier steps as this runner.
     */
    public List<NodeCheck> checkStep(jmlc.compiler.interp.ReferenceInterpreter ref, jmlc.compiler.interp.ReferenceInterpreter.State state, int[] tokens, int pos) {
        ahead.discard();
        chainedPos = -1;
        if (pos == 0) // a new sequence: the reference's caches start at zero, so must ours for whole-cache comparisons
            for (Value st : model.graph().states()) dev.zero(stateAddr.get(st), st.type().shape().numel() * (st.type().dtype().bits() / 8));
        Map<Value, float[]> expected = new IdentityHashMap<>();
        ref.run(tokens, pos, state, (node, outs) -> {
            for (int i = 0; i < outs.length; i++) expected.put(node.output(i), outs[i].clone());
        });
        MemorySegment.copy(tokens, 0, io, GroupQuantizer.U32, 0, tokens.length);
        dev.upload(tokensAddr, io, 4L * tokens.length);
        io.set(GroupQuantizer.U32, 0, pos);
        dev.upload(posAddr, io, 4);
        Program p = tokens.length == 1 ? decode : prefill;
        List<Bound> bound = tokens.length == 1 ? decodeCalls : prefillCalls;
        List<NodeCheck> out = new ArrayList<>();
        int next = 0;
        jmlc.compiler.ir.Bindings b = jmlc.compiler.ir.Bindings.of("seq", tokens.length);
        // a node with no kernels of its own (rope_kv_append absorbed by the decode attention): its
        // cache updates are checked after the kernels that make them; its q is never materialized
        List<Program.Step> absorbed = new ArrayList<>();
        for (Program.Step s : p.steps()) {
            for (Value in : s.node().inputs()) {
                float[] v = expected.get(in);
                if (v != null && in.kind() == Value.Kind.TEMP && !stateAddr.containsKey(in)) writeValue(in, v);
            }
            if (s.calls().isEmpty()) {
                absorbed.add(s);
                continue;
            }
            launchAll(bound.subList(next, next + s.calls().size()), tokens.length);
            next += s.calls().size();
            dev.synchronize();
            String kernels = String.join(",", s.calls().stream().map(c -> c.kernel().name()).toList());
            for (Program.Step a : absorbed)
                for (int i = 0; i < a.node().outputs().size(); i++)
                    if (stateAddr.containsKey(a.node().output(i))) out.add(check(a.node(), i, s.rule(), kernels, b, expected));
            absorbed.clear();
            for (int i = 0; i < s.node().outputs().size(); i++) out.add(check(s.node(), i, s.rule(), kernels, b, expected));
        }
        return out;
    }

    private NodeCheck check(jmlc.compiler.ir.Node node, int output, String rule, String kernels, jmlc.compiler.ir.Bindings b, Map<Value, float[]> expected) {
        Value v = node.output(output);
        float[] got = readValue(v, b);
        return new NodeCheck(v.ref() + " = " + node.op().name() + (node.outputs().size() > 1 ? "." + output : ""), rule, kernels, relError(got, expected.get(v)), got.length);
    }

    private void writeValue(Value v, float[] values) {
        MemorySegment buf = host.allocate(4L * values.length, 16);
        MemorySegment.copy(values, 0, buf, GroupQuantizer.F32, 0, values.length);
        dev.upload(slotAddr[plan.slot(v)], buf, 4L * values.length);
    }

    /** A value's device buffer as floats: an activation (f32) or a KV cache (f16/f32). */
    private float[] readValue(Value v, jmlc.compiler.ir.Bindings b) {
        Long state = stateAddr.get(v);
        long n = state != null ? v.type().shape().numel() : v.type().shape().numel(b);
        int size = v.type().dtype() == DType.F16 ? 2 : 4;
        MemorySegment buf = host.allocate(n * size, 16);
        dev.download(buf, state != null ? state : slotAddr[plan.slot(v)], n * size);
        float[] f = new float[(int) n];
        for (int i = 0; i < n; i++) f[i] = size == 2 ? Half.toFloat(buf.getAtIndex(GroupQuantizer.F16, i)) : buf.getAtIndex(GroupQuantizer.F32, i);
        return f;
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
     * Device milliseconds of each call of the decode program, from {@code reps} launches captured
     * into a graph and replayed, so host launch cost does not inflate short kernels.
     */
    public List<KernelTime> timeDecodeKernels(int reps) {
        return timeKernels(true, 1, reps);
    }

    /** Per-call device times of the decode program (seq 1) or the prefill program at {@code seq} tokens. */
    public List<KernelTime> timeKernels(boolean decodeProgram, int seq, int reps) {
        ahead.discard();
        chainedPos = -1;
        List<KernelTime> out = new ArrayList<>();
        int i = 0;
        Program prog = decodeProgram ? decode : prefill;
        List<Bound> bound = decodeProgram ? decodeCalls : prefillCalls;
        for (Program.Step s : prog.steps()) {
            for (KernelCall c : s.calls()) {
                Bound bd = bound.get(i++);
                int[] grid = GridEval.grid(c.kernel(), Map.of("seq", seq));
                int[] sc = new int[c.kernel().scalars().size()];
                java.util.Arrays.fill(sc, seq);
                try (GpuDevice.Captured g = dev.capture(() -> {
                    for (int r = 0; r < reps; r++) bd.launch().launch(grid, sc);
                })) {
                    g.replay(); // warm
                    float ms = dev.time(g::replay) / reps;
                    long read = bytesRead(c);
                    // the embedding kernel reads one row of its table, not all of it
                    if (s.node().op() instanceof jmlc.compiler.ir.Op.Embed) read /= s.node().input(0).type().shape().dim(0).size();
                    out.add(new KernelTime(c.kernel().name(), s.rule(), s.node().op().name(), ms, read));
                }
            }
        }
        return out;
    }

    /** A decode kernel's time and the bytes it must read (weights, and the KV cache for attention at the current position). */
    public record KernelTime(String kernel, String rule, String op, float ms, long weightBytes) {}

    private long bytesRead(KernelCall c) {
        long b = 0;
        for (Arg a : c.args()) {
            if (a instanceof Arg.WeightData w) b += bytes(w.param().type()) - (w.param().type().dtype().isQuantized() ? scaleBytes(w.param().type()) : 0);
            if (a instanceof Arg.WeightScales w) b += scaleBytes(w.param().type());
        }
        return b;
    }

    private static long scaleBytes(TensorType t) {
        return t.quant().scaleBytes(t.shape().dim(0).size(), t.shape().dim(1).size());
    }

    /**
     * Host milliseconds per greedy step through {@link #forwardAndSample} at positions
     * {@code start + 1 ..}, each waited for before the next (no steps queued ahead): copies,
     * replay, device argmax, sync.
     */
    public double hostStepMillis(int start, int steps) {
        if (start + steps + 1 > maxContext()) throw new IllegalArgumentException("positions up to " + (start + steps) + " exceed the KV cache of " + maxContext());
        Sampler greedy = new Sampler(jmlc.engine.sampling.SamplingParams.GREEDY);
        int[] tok = {1};
        tok[0] = forwardAndSample(tok, start, greedy, tok, 1);
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) tok[0] = forwardAndSample(tok, start + 1 + i, greedy, tok, 1);
        return (System.nanoTime() - t0) / 1e6 / steps;
    }

    /** Device milliseconds of {@code steps} replays of the captured decode step, at the device's current position (for benchmarks). */
    public float timeDecodeSteps(int steps) {
        ahead.discard();
        chainedPos = -1;
        return dev.time(() -> {
            for (int i = 0; i < steps; i++) decodeGraph.replay();
        });
    }

    /**
     * Device milliseconds of {@code steps} replays of the captured greedy step (decode, argmax,
     * token fed back), positions moving on from where the last step left them.
     */
    public float timeGreedySteps(int steps) {
        ahead.discard();
        chainedPos = -1;
        return dev.time(() -> {
            for (int i = 0; i < steps; i++) greedyStep.replay();
        });
    }

    public Program decodeProgram() {
        return decode;
    }

    public Program prefillProgram() {
        return prefill;
    }

    public GpuDevice gpu() {
        return dev;
    }

    @Override
    public DeviceInfo device() {
        return dev.info();
    }

    @Override
    public CompiledModel model() {
        return model;
    }

    @Override
    public void close() {
        try {
            if (ahead != null) ahead.close();
            for (GpuDevice.Captured g : java.util.Arrays.asList(decodeGraph, greedyStep, sampleStep)) if (g != null) g.close();
        } catch (RuntimeException e) {
            // closing anyway
        }
        for (List<Bound> calls : java.util.Arrays.asList(decodeCalls, prefillCalls))
            if (calls != null) for (Bound b : calls) b.launch().close();
        samplers.values().forEach(GpuDevice.Launch::close);
        for (long a : allocations) dev.free(a);
        allocations.clear();
        host.close();
        dev.close(); // the runner owns its device handle
    }
}
