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
import jmlc.compiler.schedule.rule.GemvRule;
import jmlc.engine.runtime.gpu.GpuDevice;

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

    public static List<Result> sweep(GpuDevice dev, QuantScheme scheme, int n, int k, List<Map<String, Integer>> variants, int reps) {
        GraphBuilder b = new GraphBuilder("gemv");
        Value x = b.input("x", TensorType.of(DType.F32, 1, k));
        Value w = b.param("w", TensorType.quantized(scheme, n, k));
        Value y = b.apply("y", new Op.QMatMul(), x, w);
        b.output(y);
        var g = b.build();
        Node node = g.nodes().getFirst();
        long dataBytes = scheme.dataBytes(n, k), scaleBytes = scheme.scaleBytes(n, k);
        int copies = (int) Math.max(2, (256L << 20) / (dataBytes + scaleBytes) + 1); // > 50 MB L2 in rotation
        long[] data = new long[copies], scales = new long[copies];
        List<Long> allocs = new ArrayList<>();
        for (int i = 0; i < copies; i++) {
            data[i] = dev.alloc(dataBytes, "sweep weights");
            scales[i] = dev.alloc(scaleBytes, "sweep scales");
            dev.zero(data[i], dataBytes);
            dev.zero(scales[i], scaleBytes);
            allocs.add(data[i]);
            allocs.add(scales[i]);
        }
        long xa = dev.alloc(4L * k, "x"), ya = dev.alloc(4L * n, "y");
        dev.zero(xa, 4L * k);
        allocs.add(xa);
        allocs.add(ya);
        List<Result> out = new ArrayList<>();
        CEmitter emitter = new CEmitter(dev.target().dialect());
        try {
            for (Map<String, Integer> v : variants) {
                Knobs knobs = Knobs.defaults().put(GemvRule.signature(w), v);
                var calls = new GemvRule().apply(node, new ScheduleContext(g, dev.target(), true, 1, knobs));
                if (calls.isEmpty()) continue;
                KernelCall call = calls.get().getFirst();
                var kernel = call.kernel();
                if (!kernel.knobs().equals(v)) continue; // the rule adjusted an impossible combination
                GpuDevice.LoadedKernel lk = dev.load(kernel, emitter.emit(kernel));
                int[] grid = GridEval.grid(kernel, Map.of("seq", 1));
                long[][] args = new long[copies][];
                for (int i = 0; i < copies; i++) {
                    long[] a = new long[call.args().size()];
                    for (int j = 0; j < a.length; j++) {
                        Arg arg = call.args().get(j);
                        a[j] = switch (arg) {
                            case Arg.WeightData d -> data[i];
                            case Arg.WeightScales s -> scales[i];
                            case Arg.Tensor t -> t.value() == x ? xa : ya;
                            default -> throw new IllegalStateException("unexpected " + arg);
                        };
                    }
                    args[i] = a;
                }
                int[] sc = new int[kernel.scalars().size()];
                java.util.Arrays.fill(sc, 1);
                for (int i = 0; i < copies; i++) dev.launch(lk, grid, args[i], sc);
                float ms = dev.time(() -> {
                    for (int r = 0; r < reps; r++) dev.launch(lk, grid, args[r % copies], sc);
                }) / reps;
                out.add(new Result(n + "x" + k, v, ms * 1000, (dataBytes + scaleBytes) / (ms * 1e-3) / 1e9));
            }
        } finally {
            for (long a : allocs) dev.free(a);
        }
        out.sort((a, c) -> Float.compare(a.us(), c.us()));
        return out;
    }

    /** The knob grid: threads per row, rows per block, words per load, loads in flight. */
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
