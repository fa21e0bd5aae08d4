package jmlc.engine.bench;

import jmlc.compiler.codegen.CEmitter;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.GraphBuilder;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.GridEval;
import jmlc.compiler.schedule.Arg;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.ScheduleContext;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.SyntheticFill;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Times the GEMV rule's knob space on one GPU for given weight shapes, on random weights in
 * enough copies to defeat the L2 cache: achieved bandwidth per variant, the best first. This is
 * how the rule's defaults are chosen (and what a tuner searches).
 */
public final class GemvSweep {
    private GemvSweep() {}

    public record Result(String shape, Map<String, Integer> knobs, float us, double gbps) {}

    /** Sweeps {@code rule} (a GEMV rule whose knobs live under {@code signature(w)}) over {@code variants}. */
    /** Sweeps {@code rule} over {@code variants} for a GEMV with an rms_norm prologue when {@code norm}, as the model's qkv and gate_up are. */
    public static List<Result> sweep(GpuDevice dev, jmlc.compiler.schedule.ScheduleRule rule, java.util.function.Function<Value, String> signature,
                                     QuantScheme scheme, int n, int k, boolean norm, List<Map<String, Integer>> variants, int reps) {
        GraphBuilder b = new GraphBuilder("gemv");
        Value x = b.input("x", TensorType.of(DType.F32, 1, k));
        Value w = b.param("w", TensorType.quantized(scheme, n, k));
        Value gw = norm ? b.param("g", TensorType.of(DType.F32, k)) : null;
        Value y = norm ? b.apply("y", new Op.FusedMatMul(new Op.Prologue.RmsNorm(1e-5), false, false), x, gw, w)
                : b.apply("y", new Op.QMatMul(), x, w);
        b.output(y);
        var g = b.build();
        Node node = g.nodes().getFirst();
        long dataBytes = scheme.dataBytes(n, k), scaleBytes = scheme.scaleBytes(n, k);
        int copies = (int) Math.max(2, (256L << 20) / (dataBytes + scaleBytes) + 1); // > 50 MB L2 in rotation
        long[] data = new long[copies], scales = new long[copies];
        List<Long> allocs = new ArrayList<>();
        // random weights and activations: timing zeros can flatter a kernel
        Map<String, GpuDevice.LoadedKernel> fills = new java.util.HashMap<>();
        for (int i = 0; i < copies; i++) {
            data[i] = dev.alloc(dataBytes, "sweep weights");
            scales[i] = dev.alloc(scaleBytes, "sweep scales");
            SyntheticFill.fill(dev, fills, data[i], dataBytes, SyntheticFill.Kind.RANDOM_BITS, 0, 0, 2 * i + 1);
            SyntheticFill.fill(dev, fills, scales[i], scaleBytes, SyntheticFill.Kind.CONSTANT, 0, 0x1C001C00, 0);
            allocs.add(data[i]);
            allocs.add(scales[i]);
        }
        long xa = dev.alloc(4L * k, "x"), ya = dev.alloc(4L * n, "y"), ga = dev.alloc(4L * k, "g");
        SyntheticFill.fill(dev, fills, xa, 4L * k, SyntheticFill.Kind.RANDOM_F32, 1f, 0, 99);
        SyntheticFill.fill(dev, fills, ga, 4L * k, SyntheticFill.Kind.CONSTANT, 0, Float.floatToIntBits(1f), 0);
        allocs.add(xa);
        allocs.add(ya);
        allocs.add(ga);
        List<Result> out = new ArrayList<>();
        CEmitter emitter = new CEmitter(dev.target().dialect());
        try {
            // make and compile every variant in parallel first (NVRTC is the slow part), then time them one by one
            record Variant(Map<String, Integer> knobs, KernelCall call, GpuDevice.LoadedKernel loaded) {}
            List<Variant> ready = variants.parallelStream().map(v -> {
                Knobs knobs = Knobs.defaults().put(signature.apply(w), v);
                var calls = rule.apply(node, new ScheduleContext(g, dev.target(), true, 1, knobs));
                if (calls.isEmpty() || !calls.get().getFirst().kernel().knobs().equals(v)) return null; // the rule declined or adjusted the combination
                KernelCall call = calls.get().getFirst();
                return new Variant(v, call, dev.load(call.kernel(), emitter.emit(call.kernel())));
            }).filter(java.util.Objects::nonNull).toList();
            for (Variant var : ready) {
                KernelCall call = var.call();
                var kernel = call.kernel();
                GpuDevice.LoadedKernel lk = var.loaded();
                int[] grid = GridEval.grid(kernel, Map.of("seq", 1));
                long[][] args = new long[copies][];
                for (int i = 0; i < copies; i++) {
                    long[] a = new long[call.args().size()];
                    for (int j = 0; j < a.length; j++) {
                        Arg arg = call.args().get(j);
                        a[j] = switch (arg) {
                            case Arg.WeightData d -> d.param() == gw ? ga : data[i];
                            case Arg.WeightScales sc -> scales[i];
                            case Arg.Tensor t -> t.value() == x ? xa : ya;
                            default -> throw new IllegalStateException("unexpected " + arg);
                        };
                    }
                    args[i] = a;
                }
                int[] sc = new int[kernel.scalars().size()];
                java.util.Arrays.fill(sc, 1);
                for (int i = 0; i < copies; i++) dev.launch(lk, grid, args[i], sc);
                GpuDevice.Launch[] ls = new GpuDevice.Launch[copies];
                for (int i = 0; i < copies; i++) ls[i] = dev.prepare(lk, args[i]);
                try (GpuDevice.Captured cap = dev.capture(() -> {
                    for (int r = 0; r < reps; r++) ls[r % copies].launch(grid, sc);
                })) {
                    cap.replay();
                    float ms = dev.time(cap::replay) / reps;
                    out.add(new Result(n + "x" + k, var.knobs(), ms * 1000, (dataBytes + scaleBytes) / (ms * 1e-3) / 1e9));
                } finally {
                    for (GpuDevice.Launch l : ls) l.close();
                }
            }
        } finally {
            for (long a : allocs) dev.free(a);
        }
        out.sort((a, c) -> Float.compare(a.us(), c.us()));
        return out;
    }

    /** The f16 GEMV's knob grid: warps per block, rows per warp, words per load, chunks in flight. */
    public static List<Map<String, Integer>> halfGrid() {
        List<Map<String, Integer>> g = new ArrayList<>();
        for (int w : new int[] {4, 8})
            for (int r : new int[] {2, 4, 8})
                for (int u : new int[] {1, 2})
                    for (int blocks : new int[] {132, 264, 528, 100000})
                        g.add(Map.of("warps", w, "rows_per_warp", r, "vector", 4, "unroll", u, "blocks", blocks));
        return g;
    }

    /** The f32 GEMV's knob grid: threads per row, rows per block, words per load, loads in flight. */
    public static List<Map<String, Integer>> grid() {
        List<Map<String, Integer>> g = new ArrayList<>();
        for (int t : new int[] {32, 64, 128})
            for (int r : new int[] {1, 2, 4, 8})
                for (int v : new int[] {1, 2, 4})
                    for (int u : new int[] {2, 4, 8})
                        if (t * r <= 1024 && t * r >= 64) g.add(Map.of("threads", t, "rows", r, "vector", v, "unroll", u));
        return g;
    }
}
