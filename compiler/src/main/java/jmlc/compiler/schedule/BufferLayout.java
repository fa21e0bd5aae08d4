package jmlc.compiler.schedule;

import jmlc.compiler.ir.Bindings;
import jmlc.compiler.ir.Dim;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Value;
import jmlc.compiler.pass.MemoryPlan;
import jmlc.compiler.quant.Int8KvCache;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where every argument of a model's programs lives: the one memory layout that GPU runtimes and
 * the kernel simulator share. One buffer per memory-plan slot; one per state (a KV cache), which
 * its updated value shares (caches are updated in place); the weights' packed data and scales;
 * {@code tokens} (up to {@code maxSeq} i32) and {@code pos} (one i32); any other graph input (the
 * activations a region cut out of a model reads) for {@code maxSeq} rows; each constant once; each
 * scratch buffer once, sized for its largest use in any of the programs, and zeroed so no kernel
 * reads garbage it did not write.
 *
 * @param <B> a buffer: a device address, or host memory for the simulator
 */
public final class BufferLayout<B> {

    /** How a runtime makes the buffers (in the order the layout asks for them). */
    public interface Memory<B> {
        /** {@code bytes} of memory, zeroed; {@code what} names the buffer in an out-of-memory error. */
        B zeroed(long bytes, String what);

        /** Memory holding {@code values} (a table the compiler computed, such as rope's cos/sin). */
        B constant(float[] values, String what);

        /** The packed values of a quantized param, or all of a dense one. */
        B weightData(Value param);

        /** The group scales of a quantized param. */
        B weightScales(Value param);

        /** The memory {@code bytes} into {@code buffer} (an int8 KV cache's scales). */
        B offset(B buffer, long bytes);
    }

    private final MemoryPlan plan;
    private final Memory<B> memory;
    private final List<B> slots = new ArrayList<>();
    private final Map<Value, B> states = new IdentityHashMap<>();
    private final Map<String, B> constants = new LinkedHashMap<>();
    private final Map<String, B> scratch = new LinkedHashMap<>();
    private final Map<Value, B> inputs = new IdentityHashMap<>();
    private final Value tokensValue, posValue;
    private final B tokens, pos;

    public BufferLayout(Graph g, MemoryPlan plan, List<Program> programs, int maxSeq, Memory<B> memory) {
        this.plan = plan;
        this.memory = memory;
        for (long bytes : plan.slotBytes()) slots.add(memory.zeroed(Math.max(4, bytes), "activations"));
        for (Value s : g.states()) states.put(s, memory.zeroed(stateBytes(s), s.name()));
        for (var e : g.stateUpdates().entrySet()) states.put(e.getValue(), states.get(e.getKey()));
        this.tokensValue = g.input("tokens");
        this.posValue = g.input("pos");
        this.tokens = memory.zeroed(4L * maxSeq, "tokens");
        this.pos = memory.zeroed(4, "pos");
        for (Value in : g.inputs())
            if (in != tokensValue && in != posValue)
                inputs.put(in, memory.zeroed(Math.max(4, in.type().shape().numel(Bindings.of(Dim.SEQ.name(), maxSeq)) * Math.max(1, in.type().dtype().bits() / 8)), in.name()));
        Map<String, Long> scratchBytes = new LinkedHashMap<>();
        for (Program p : programs)
            for (KernelCall c : java.util.stream.Stream.concat(p.calls().stream(), p.launched().stream()).toList())
                for (Arg a : c.args()) {
                    if (a instanceof Arg.Scratch s) scratchBytes.merge(s.name(), s.bytes(), Math::max);
                    if (a instanceof Arg.Constant k && !constants.containsKey(k.name())) constants.put(k.name(), memory.constant(k.values(), "constant " + k.name()));
                }
        scratchBytes.forEach((name, bytes) -> scratch.put(name, memory.zeroed(bytes, "scratch " + name)));
    }

    /** Bytes of a state's buffer: all of its elements in its stored type (an int8 cache: its values and scales). */
    public static long stateBytes(Value s) {
        if (Int8KvCache.is(s.type())) return Int8KvCache.bytes(s.type());
        return s.type().shape().numel() * Math.max(1, s.type().dtype().bits() / 8);
    }

    /** The buffer an argument is bound to. */
    public B resolve(Arg a) {
        return switch (a) {
            case Arg.Tensor t -> tensor(t.value());
            case Arg.WeightData w -> memory.weightData(w.param());
            case Arg.WeightScales w -> memory.weightScales(w.param());
            case Arg.StateScales s -> memory.offset(require(states.get(s.state()), "state " + s.state().name()), Int8KvCache.scaleOffset(s.state().type()));
            case Arg.Constant c -> require(constants.get(c.name()), "constant " + c.name());
            case Arg.Scratch s -> require(scratch.get(s.name()), "scratch " + s.name());
        };
    }

    /** A call's buffers, in the kernel's parameter order. */
    public List<B> bind(KernelCall c) {
        List<B> out = new ArrayList<>(c.args().size());
        for (Arg a : c.args()) out.add(resolve(a));
        return out;
    }

    /** A graph value's buffer: tokens, pos, another input, a state, a dense param's data, or its memory-plan slot. */
    public B tensor(Value v) {
        if (v == tokensValue) return tokens;
        if (v == posValue) return pos;
        B in = inputs.get(v);
        if (in != null) return in;
        B s = states.get(v);
        if (s != null) return s;
        if (v.kind() == Value.Kind.PARAM) return memory.weightData(v);
        return slots.get(plan.slot(v));
    }

    public B tokens() {
        return tokens;
    }

    public B pos() {
        return pos;
    }

    /** The state's buffer when {@code v} is a state (or a state's update), else null. */
    public B state(Value v) {
        return states.get(v);
    }

    private B require(B b, String what) {
        if (b == null) throw new IllegalStateException(what + " is not in the layout: it was built for other programs");
        return b;
    }
}
