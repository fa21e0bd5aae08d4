package jmlc.compiler.schedule;

import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.KernelSimulator;
import jmlc.compiler.pass.MemoryPlan;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.tensor.HostTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Runs scheduled programs on the {@link KernelSimulator}: host memory laid out the way a GPU
 * runtime lays out device memory (one buffer per memory-plan slot, per state, per weight part,
 * per constant and scratch). What CI uses to check generated kernels end to end without a GPU.
 */
public final class SimulatedExecutor implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemoryPlan plan;
    private final Function<Value, HostTensor> weights;
    private final KernelSimulator sim;
    private final MemorySegment[] slots;
    private final Map<Value, MemorySegment> states = new IdentityHashMap<>();
    private final Map<String, MemorySegment> named = new HashMap<>();
    private final MemorySegment tokens;
    private final MemorySegment pos;
    private final Value tokensValue;
    private final Value posValue;

    public SimulatedExecutor(Program anyProgram, MemoryPlan plan, Function<Value, HostTensor> weights, int maxSeq) {
        this.plan = plan;
        this.weights = weights;
        this.sim = new KernelSimulator(anyProgram.target().warpSize());
        this.slots = plan.slotBytes().stream().map(b -> arena.allocate(Math.max(4, b), 16)).toArray(MemorySegment[]::new);
        var g = anyProgram.graph();
        for (Value s : g.states()) states.put(s, arena.allocate(s.type().shape().numel() * Math.max(1, s.type().dtype().bits() / 8), 16));
        // a state's updated value lives in the state's own buffer (updated in place)
        for (var e : g.stateUpdates().entrySet()) states.put(e.getValue(), states.get(e.getKey()));
        this.tokensValue = g.input("tokens");
        this.posValue = g.input("pos");
        this.tokens = arena.allocate(4L * maxSeq, 16);
        this.pos = arena.allocate(16, 16);
    }

    private final Map<String, Long> scratchBytes = new HashMap<>();

    /** Runs one step of {@code p} for {@code toks} at position {@code position}; returns the first output's floats. */
    public float[] run(Program p, int[] toks, int position) {
        // a scratch buffer serves every call that names it: size it for the largest
        for (KernelCall c : p.calls())
            for (Arg a : c.args())
                if (a instanceof Arg.Scratch s) scratchBytes.merge(s.name(), s.bytes(), Math::max);
        named.entrySet().removeIf(e -> e.getKey().startsWith("scratch:") && e.getValue().byteSize() < scratchBytes.get(e.getKey().substring(8)));
        for (int i = 0; i < toks.length; i++) tokens.setAtIndex(GroupQuantizer.U32, i, toks[i]);
        pos.set(GroupQuantizer.U32, 0, position);
        for (KernelCall call : p.calls()) {
            Map<String, MemorySegment> bufs = new HashMap<>();
            for (int i = 0; i < call.args().size(); i++) bufs.put(call.kernel().buffers().get(i).name(), resolve(call.args().get(i)));
            sim.launch(call.kernel(), bufs, Map.of("seq", toks.length));
        }
        Value out = p.graph().outputs().getFirst();
        long n = out.type().shape().numel(jmlc.compiler.ir.Bindings.of("seq", toks.length));
        float[] r = new float[(int) n];
        MemorySegment seg = slots[plan.slot(out)];
        for (int i = 0; i < n; i++) r[i] = seg.getAtIndex(GroupQuantizer.F32, i);
        return r;
    }

    private MemorySegment resolve(Arg a) {
        return switch (a) {
            case Arg.Tensor t -> tensor(t.value());
            case Arg.WeightData w -> switch (weights.apply(w.param())) {
                case HostTensor.Dense d -> d.data();
                case HostTensor.Quantized q -> q.data();
            };
            case Arg.WeightScales w -> ((HostTensor.Quantized) weights.apply(w.param())).scales();
            case Arg.Constant c -> named.computeIfAbsent("const:" + c.name(), k -> {
                MemorySegment s = arena.allocate(4L * c.values().length, 16);
                for (int i = 0; i < c.values().length; i++) s.setAtIndex(GroupQuantizer.F32, i, c.values()[i]);
                return s;
            });
            case Arg.Scratch s -> named.computeIfAbsent("scratch:" + s.name(), k -> arena.allocate(scratchBytes.getOrDefault(s.name(), s.bytes()), 16));
        };
    }

    private MemorySegment tensor(Value v) {
        if (v == tokensValue) return tokens;
        if (v == posValue) return pos;
        MemorySegment s = states.get(v);
        return s != null ? s : slots[plan.slot(v)];
    }

    @Override
    public void close() {
        arena.close();
    }
}
