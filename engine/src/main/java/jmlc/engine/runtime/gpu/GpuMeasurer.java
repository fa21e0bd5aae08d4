package jmlc.engine.runtime.gpu;

import jmlc.compiler.build.Build;
import jmlc.compiler.ir.Bindings;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.pass.MemoryPlan;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.quant.Half;
import jmlc.compiler.schedule.Arg;
import jmlc.compiler.schedule.BufferLayout;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Precision;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.tensor.HostTensor;
import jmlc.compiler.tune.Measurement;
import jmlc.compiler.tune.Measurer;
import jmlc.compiler.tune.TuningTask;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.tuning.RegionCase;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Measures tuning candidates on any {@link GpuDevice} (CUDA, ROCm, Vulkan, the simulator): it
 * uses nothing but the device contract. Per task, the region's weights go to the device once, in
 * as many copies as it takes to hold {@link Settings#rotationBytes} (more than the L2 cache), and
 * the reference interpreter's results are computed once ({@link RegionCase}). Per candidate:
 * <ol>
 * <li>the region is compiled with the candidate's knobs through {@link Build#compile} (the path a
 *     model takes), and its kernels loaded; a batch compiles in parallel;</li>
 * <li>it runs at each of the task's check lengths on the reference's inputs and caches, and its
 *     outputs and updated caches are compared with the reference's: beyond the rule's tolerance
 *     ({@link Precision}) it is refused and never timed;</li>
 * <li>it is timed as the model runs it: {@link Settings#launches} runs of the region (or one per
 *     copy, if there are more copies), each on the next copy of weights, caches and activations,
 *     captured as one device graph; one replay warms up, then the median of {@link Settings#samples}
 *     replays timed with device events. A candidate
 *     three times slower than the task's best after one sample is not timed further.</li>
 * </ol>
 * Candidates whose kernels come out identical to one already measured (a knob the shape makes
 * moot) share its measurement.
 */
public final class GpuMeasurer implements Measurer {

    /**
     * @param launches      runs of the region per timed replay
     * @param samples       timed replays; the median is the figure
     * @param rotationBytes weights, caches and activations in rotation at least this large (0: one copy)
     * @param seed          the random weights and inputs
     */
    public record Settings(int launches, int samples, long rotationBytes, long seed) {
        /** Real GPUs: 20 runs a replay, the median of 7 replays, at least 256 MiB in rotation (an H200's L2 is 60 MiB). */
        public static Settings gpu() {
            return new Settings(20, 7, 256L << 20, 1);
        }

        /** A device with a modeled clock ({@link GpuDevice#modeledClock()}): one run, one sample, one copy say it all. */
        public static Settings modeled() {
            return new Settings(1, 1, 0, 1);
        }

        /** The settings for {@code dev}. */
        public static Settings of(GpuDevice dev) {
            return dev.modeledClock() ? modeled() : gpu();
        }
    }

    /** A candidate three times slower than the best after its first sample is not timed further. */
    static final double CUT_SHORT = 3;

    private final GpuDevice dev;
    private final Settings settings;

    public GpuMeasurer(GpuDevice dev, Settings settings) {
        this.dev = dev;
        this.settings = settings;
    }

    @Override
    public String describe() {
        return dev.info().id() + " (" + dev.info().name() + (dev.info().properties().containsKey("driver") ? ", " + dev.info().properties().get("driver") : "")
                + "): " + (dev.modeledClock() ? "the simulator's modeled clock" : "device events") + ", " + settings.launches()
                + " or more runs of the region (each copy once at least) captured as one graph, one warm-up replay, median of " + settings.samples() + " replays"
                + (settings.rotationBytes() > 0 ? "; weights, caches and activations rotated over copies of at least " + (settings.rotationBytes() >> 20) + " MiB" : "")
                + "; each candidate checked against the reference interpreter first";
    }

    @Override
    public Session open(TuningTask task) {
        return new TaskSession(task);
    }

    /** A candidate compiled and loaded, or why it could not be. */
    private record Compiled(Map<String, Integer> knobs, Program program, Map<String, GpuDevice.LoadedKernel> loaded, List<Object> identity, String error) {}

    private final class TaskSession implements Session {
        private final TuningTask task;
        private final RegionCase region;
        private final Graph graph;
        private final MemoryPlan plan;
        private final int maxSeq, copies;
        private final DeviceMemory weightMemory = new DeviceMemory(dev);
        private final List<Map<Value, long[]>> weights = new ArrayList<>();
        private final Arena host = Arena.ofShared();
        private final Map<Value, MemorySegment> initialStates = new IdentityHashMap<>();
        /** Each input's values for a step length, as the device holds them (made once: a prefill's caches are large). */
        private final Map<Value, Map<Integer, MemorySegment>> inputs = new IdentityHashMap<>();
        private final Map<List<Object>, Measurement> measured = new HashMap<>();

        TaskSession(TuningTask task) {
            this.task = task;
            this.region = new RegionCase(task, settings.seed());
            this.graph = task.region();
            this.maxSeq = Math.max(task.seq(), Arrays.stream(task.checkSeq()).max().orElse(1));
            this.plan = MemoryPlan.plan(graph, Bindings.of("seq", maxSeq));
            long perCopy = ModelWeights.bytesOf(graph) + plan.totalBytes();
            for (Value s : graph.states()) perCopy += BufferLayout.stateBytes(s);
            this.copies = settings.rotationBytes() <= 0 ? 1 : (int) Math.clamp((settings.rotationBytes() + perCopy - 1) / perCopy, 2, 64);
            try {
                for (Value s : graph.states()) initialStates.put(s, HostBytes.encode(host, region.initialState(s), s.type()));
                Map<Value, long[]> first = new IdentityHashMap<>();
                for (Value p : graph.params()) {
                    HostTensor h = region.weights().get(p);
                    first.put(p, switch (h) {
                        case HostTensor.Dense d -> new long[] {upload(d.data(), d.byteSize(), p.name())};
                        case HostTensor.Quantized q -> new long[] {upload(q.data(), q.scheme().dataBytes(q.rows(), q.cols()), p.name()),
                                upload(q.scales(), q.scheme().scaleBytes(q.rows(), q.cols()), p.name() + " scales")};
                    });
                }
                weights.add(first);
                for (int c = 1; c < copies; c++) {
                    Map<Value, long[]> copy = new IdentityHashMap<>();
                    for (var e : first.entrySet()) {
                        long[] src = e.getValue(), dst = new long[src.length];
                        HostTensor h = region.weights().get(e.getKey());
                        for (int i = 0; i < src.length; i++) {
                            long n = i == 0 ? dataBytes(h) : ((HostTensor.Quantized) h).scheme().scaleBytes(((HostTensor.Quantized) h).rows(), ((HostTensor.Quantized) h).cols());
                            dst[i] = weightMemory.alloc(n, e.getKey().name() + " copy " + c);
                            dev.copy(dst[i], src[i], n);
                        }
                        copy.put(e.getKey(), dst);
                    }
                    weights.add(copy);
                }
                dev.synchronize();
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        private long upload(MemorySegment src, long bytes, String what) {
            return weightMemory.upload(src, bytes, what);
        }

        private static long dataBytes(HostTensor h) {
            return switch (h) {
                case HostTensor.Dense d -> d.byteSize();
                case HostTensor.Quantized q -> q.scheme().dataBytes(q.rows(), q.cols());
            };
        }

        @Override
        public List<Measurement> measure(List<Map<String, Integer>> candidates, double bestMs) {
            List<Compiled> compiled = candidates.parallelStream().map(this::compile).toList();
            List<Measurement> out = new ArrayList<>();
            double best = bestMs;
            for (Compiled c : compiled) {
                Measurement m;
                if (c.error() != null) {
                    m = new Measurement.Rejected(c.knobs(), c.error());
                } else if (measured.containsKey(c.identity())) {
                    m = with(measured.get(c.identity()), c.knobs());
                } else {
                    m = run(c, best);
                    measured.put(c.identity(), m);
                }
                if (m instanceof Measurement.Timed t) best = Math.min(best, t.ms());
                out.add(m);
            }
            return out;
        }

        /** {@code m} for a candidate whose kernels are the same as the one it measured. */
        private static Measurement with(Measurement m, Map<String, Integer> knobs) {
            return switch (m) {
                case Measurement.Timed t -> new Measurement.Timed(knobs, t.ms(), t.samples(), t.relError(), t.resources());
                case Measurement.Rejected r -> new Measurement.Rejected(knobs, r.reason());
            };
        }

        /** Compiles the region with the candidate's knobs (the one compile path) and loads its kernels on the device. */
        private Compiled compile(Map<String, Integer> knobs) {
            try {
                Build b = Build.compile(graph, dev.target(), Knobs.defaults().put(task.signature(), knobs), maxSeq);
                Program p = b.program(task.decode());
                Map<String, GpuDevice.LoadedKernel> loaded = new HashMap<>();
                List<Object> identity = new ArrayList<>();
                for (KernelCall c : p.calls()) {
                    Kernel k = c.kernel();
                    loaded.computeIfAbsent(k.name(), n -> dev.load(k, b.source(n)));
                    identity.add(List.of(b.source(k.name()), Arrays.toString(k.block()), Arrays.toString(k.grid()),
                            c.args().stream().filter(a -> a instanceof Arg.Scratch).map(Object::toString).toList()));
                }
                return new Compiled(knobs, p, loaded, identity, null);
            } catch (RuntimeException e) {
                return new Compiled(knobs, null, null, null, "does not compile: " + firstLine(e));
            }
        }

        /** Checks a candidate against the reference, then times it (see the class comment). */
        private Measurement run(Compiled c, double bestMs) {
            List<GpuDevice.Launch> launches = new ArrayList<>();
            try (DeviceMemory memory = new DeviceMemory(dev); Arena arena = Arena.ofConfined()) {
                List<BufferLayout<Long>> layouts = new ArrayList<>();
                for (int i = 0; i < copies; i++) layouts.add(layout(c.program(), memory, arena, weights.get(i)));
                double tolerance = c.program().steps().stream()
                        .mapToDouble(s -> Precision.perNode(s, dev.target())).max().orElse(1e-4);
                double worst = 0;
                for (int seq : task.checkSeq()) {
                    BufferLayout<Long> l = layouts.getFirst();
                    setInputs(l, seq, arena);
                    launchAll(c, bind(c, l, launches), seq);
                    dev.synchronize();
                    String bad = compare(l, region.expected(seq), seq, tolerance, arena);
                    if (bad.startsWith("!")) return new Measurement.Rejected(c.knobs(), bad.substring(1));
                    worst = Math.max(worst, Double.parseDouble(bad));
                }
                for (BufferLayout<Long> l : layouts) setInputs(l, task.seq(), arena);
                List<List<Bound>> bound = new ArrayList<>();
                for (BufferLayout<Long> l : layouts) bound.add(bind(c, l, launches));
                int seq = task.seq(), runs = Math.max(settings.launches(), copies); // every copy once at least
                try (GpuDevice.Captured g = dev.capture(() -> {
                    for (int r = 0; r < runs; r++) launchAll(c, bound.get(r % copies), seq);
                })) {
                    g.replay(); // warm-up
                    List<Double> samples = new ArrayList<>();
                    for (int i = 0; i < settings.samples(); i++) {
                        samples.add((double) dev.time(g::replay) / runs);
                        if (i == 0 && samples.getFirst() > CUT_SHORT * bestMs) break;
                    }
                    return measurementOf(c.knobs(), samples, worst, resources(c.loaded().values()));
                }
            } catch (RuntimeException e) {
                return new Measurement.Rejected(c.knobs(), "fails on the device: " + firstLine(e));
            } finally {
                for (GpuDevice.Launch l : launches) l.close();
            }
        }

        private static Measurement measurementOf(Map<String, Integer> knobs, List<Double> samples, double relError, String resources) {
            double[] s = samples.stream().mapToDouble(Double::doubleValue).toArray();
            double[] sorted = s.clone();
            Arrays.sort(sorted);
            int n = sorted.length;
            double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
            return new Measurement.Timed(knobs, median, s, relError, resources);
        }

        /** Registers a thread and blocks an SM of each kernel, as the driver reports them ({@code 64 registers, 4 blocks an SM; ...}). */
        static String resources(java.util.Collection<GpuDevice.LoadedKernel> kernels) {
            return kernels.stream().map(GpuDevice.LoadedKernel::statistics).filter(st -> !st.isEmpty()).map(st -> {
                String regs = st.getOrDefault("registers", st.get("Register Count")), perSm = st.get("blocks an SM");
                return (regs != null ? regs + " registers" : "") + (regs != null && perSm != null ? ", " : "") + (perSm != null ? perSm + " blocks an SM" : "");
            }).filter(x -> !x.isEmpty()).collect(java.util.stream.Collectors.joining("; "));
        }

        /** Device memory laid out for the candidate's program, with weight copy {@code w}; the rest fresh from {@code memory}. */
        private BufferLayout<Long> layout(Program p, DeviceMemory memory, Arena arena, Map<Value, long[]> w) {
            return new BufferLayout<>(graph, plan, List.of(p), maxSeq, new BufferLayout.Memory<>() {
                @Override
                public Long zeroed(long bytes, String what) {
                    return memory.zeroed(bytes, what);
                }

                @Override
                public Long constant(float[] values, String what) {
                    return memory.upload(HostBytes.encode(arena, values, TensorType.of(DType.F32, values.length)), 4L * values.length, what);
                }

                @Override
                public Long weightData(Value param) {
                    return w.get(param)[0];
                }

                @Override
                public Long weightScales(Value param) {
                    return w.get(param)[1];
                }

                @Override
                public Long offset(Long buffer, long bytes) {
                    return buffer + bytes;
                }
            });
        }

        /** Puts the reference's tokens, position, activations and starting caches for a step of {@code seq} tokens into {@code l}. */
        private void setInputs(BufferLayout<Long> l, int seq, Arena arena) {
            int[] tokens = region.tokens(seq);
            MemorySegment t = arena.allocate(4L * seq + 4);
            MemorySegment.copy(tokens, 0, t, GroupQuantizer.U32, 0, seq);
            dev.upload(l.tokens(), t, 4L * seq);
            t.set(GroupQuantizer.U32, 0, task.position());
            dev.upload(l.pos(), t, 4);
            for (Value in : region.activations()) {
                MemorySegment v = inputs.computeIfAbsent(in, k -> new HashMap<>()).computeIfAbsent(seq, s -> HostBytes.encode(host, region.input(in, s), in.type()));
                dev.upload(l.tensor(in), v, HostBytes.size(in.type(), in.type().shape().numel(Bindings.of("seq", seq))));
            }
            for (Value s : graph.states()) dev.upload(l.state(s), initialStates.get(s), BufferLayout.stateBytes(s));
        }

        /** A call's kernel and addresses, prepared for launching again and again. */
        private record Bound(GpuDevice.Launch launch, Kernel kernel) {}

        /** Binds every call of the candidate's program to {@code l}; the launches go to {@code keep}, to be closed. */
        private List<Bound> bind(Compiled c, BufferLayout<Long> l, List<GpuDevice.Launch> keep) {
            List<Bound> out = new ArrayList<>();
            for (KernelCall call : c.program().calls()) {
                long[] a = l.bind(call).stream().mapToLong(Long::longValue).toArray();
                GpuDevice.Launch launch = dev.prepare(c.loaded().get(call.kernel().name()), a);
                keep.add(launch);
                out.add(new Bound(launch, call.kernel()));
            }
            return out;
        }

        private void launchAll(Compiled c, List<Bound> calls, int seq) {
            Map<String, Integer> scalars = Map.of("seq", seq);
            for (Bound b : calls) {
                int[] sc = new int[b.kernel().scalars().size()];
                for (int i = 0; i < sc.length; i++) sc[i] = scalars.get(b.kernel().scalars().get(i).name());
                b.launch().launch(LaunchGrid.of(b.launch().kernel(), scalars), sc);
            }
        }

        /**
         * The worst relative error of the region's outputs and updated caches against the
         * reference, as a number; or {@code !} and what differs when one is beyond {@code tolerance}.
         */
        private String compare(BufferLayout<Long> l, RegionCase.Expected want, int seq, double tolerance, Arena arena) {
            double worst = 0;
            Map<Value, float[]> all = new IdentityHashMap<>(want.outputs());
            all.putAll(want.states());
            for (var e : all.entrySet()) {
                Value v = e.getKey();
                boolean state = l.state(v) != null;
                long n = state ? v.type().shape().numel() : v.type().shape().numel(Bindings.of("seq", seq));
                float[] got = HostBytes.download(dev, arena, state ? l.state(v) : l.tensor(v), n, v.type());
                double err = RegionCase.relError(got, e.getValue());
                if (!(err <= tolerance))
                    return "!differs from the reference interpreter: " + (state ? "cache " : "output ") + v.name() + " rel. error " + String.format("%.2e", err)
                            + " > " + tolerance + " at " + seq + (seq == 1 ? " token" : " tokens");
                worst = Math.max(worst, err);
            }
            return Double.toString(worst);
        }

        @Override
        public void close() {
            weightMemory.close();
            region.close();
            host.close();
        }
    }

    private static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }
}
