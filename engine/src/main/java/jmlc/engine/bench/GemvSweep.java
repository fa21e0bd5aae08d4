package jmlc.engine.bench;

import jmlc.compiler.build.Build;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphBuilder;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.GridEval;
import jmlc.compiler.schedule.Arg;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Tunable;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.SyntheticFill;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Times a decode GEMV's knob space on one GPU for a weight shape, on random weights in enough
 * copies to defeat the L2 cache: achieved bandwidth per variant, the best first. The variants are
 * the rule's own declared space ({@link jmlc.compiler.schedule.KnobSpace#combinations()}), each
 * compiled through {@link Build#compile}, the path a model takes. This is how the defaults were chosen.
 */
public final class GemvSweep {
    private GemvSweep() {}

    public record Result(String shape, Map<String, Integer> knobs, float us, double gbps) {}

    /** A one-node decode graph: {@code y = x · wᵀ}, with an rms_norm prologue when {@code norm} (as the model's qkv and gate_up). */
    static Graph gemv(QuantScheme scheme, int n, int k, boolean norm) {
        GraphBuilder b = new GraphBuilder("gemv");
        Value x = b.input("x", TensorType.of(DType.F32, 1, k));
        Value w = b.param("w", TensorType.quantized(scheme, n, k));
        Value gw = norm ? b.param("g", TensorType.of(DType.F32, k)) : null;
        Value y = norm ? b.apply("y", new Op.FusedMatMul(new Op.Prologue.RmsNorm(1e-5), false, false), x, gw, w)
                : b.apply("y", new Op.QMatMul(), x, w);
        b.output(y);
        return b.build();
    }

    /**
     * Sweeps the knob space of the decode GEMV the rules choose for this shape ({@code limit}
     * combinations at most, a seeded sample of them when the space is larger), {@code reps} timed launches each.
     */
    public static List<Result> sweep(GpuDevice dev, QuantScheme scheme, int n, int k, boolean norm, int limit, int reps) {
        Graph g = gemv(scheme, n, k, norm);
        Value x = g.input("x"), w = g.params().getFirst(), gw = norm ? g.params().get(1) : null;
        Tunable space = Build.compile(g, dev.target(), Knobs.defaults(), 1).decode().tunables().getFirst();
        List<Map<String, Integer>> variants = new ArrayList<>(space.space().combinations());
        if (variants.size() > limit) {
            Map<String, Integer> defaults = variants.getFirst();
            Collections.shuffle(variants, new Random(1));
            variants.remove(defaults);
            variants = new ArrayList<>(variants.subList(0, limit - 1));
            variants.addFirst(defaults);
        }
        long dataBytes = scheme.dataBytes(n, k), scaleBytes = scheme.scaleBytes(n, k);
        int copies = (int) Math.max(2, (256L << 20) / (dataBytes + scaleBytes) + 1); // > 50 MB L2 in rotation
        long[] data = new long[copies], scales = new long[copies];
        List<Long> allocs = new ArrayList<>();
        // random weights and activations: timing zeros can flatter a kernel
        Map<String, GpuDevice.LoadedKernel> fills = new HashMap<>();
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
        allocs.addAll(List.of(xa, ya, ga));
        List<Result> out = new ArrayList<>();
        try {
            // build and compile every variant in parallel first (the runtime compiler is the slow part), then time them one by one
            record Variant(Map<String, Integer> knobs, KernelCall call, GpuDevice.LoadedKernel loaded) {}
            List<Variant> ready = variants.parallelStream().map(v -> {
                Build b = Build.compile(g, dev.target(), Knobs.defaults().put(space.space().signature(), v), 1);
                KernelCall call = b.decode().calls().getFirst();
                return new Variant(v, call, dev.load(call.kernel(), b.source(call.kernel().name())));
            }).toList();
            for (Variant var : ready) {
                KernelCall call = var.call();
                var kernel = call.kernel();
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
                GpuDevice.Launch[] ls = new GpuDevice.Launch[copies];
                for (int i = 0; i < copies; i++) ls[i] = dev.prepare(var.loaded(), args[i]);
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
}
