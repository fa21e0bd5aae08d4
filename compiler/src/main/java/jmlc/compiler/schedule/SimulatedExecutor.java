package jmlc.compiler.schedule;

import jmlc.compiler.ir.Bindings;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.KernelSimulator;
import jmlc.compiler.pass.MemoryPlan;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.tensor.HostTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Runs scheduled programs on the {@link KernelSimulator}, in host memory laid out as a GPU runtime
 * lays out device memory ({@link BufferLayout}), at the programs' target's subgroup width. What CI
 * uses to check generated kernels end to end without a GPU.
 */
public final class SimulatedExecutor implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final KernelSimulator sim;
    private final BufferLayout<MemorySegment> layout;

    /** For {@code programs} of one graph (a scratch buffer is sized for its largest use among them). */
    public SimulatedExecutor(List<Program> programs, MemoryPlan plan, Function<Value, HostTensor> weights, int maxSeq) {
        Program any = programs.getFirst();
        this.sim = new KernelSimulator(any.target().warpSize());
        this.layout = new BufferLayout<>(any.graph(), plan, programs, maxSeq, new BufferLayout.Memory<>() {
            @Override
            public MemorySegment zeroed(long bytes, String what) {
                return arena.allocate(bytes, 16); // Arena memory starts zeroed
            }

            @Override
            public MemorySegment constant(float[] values, String what) {
                MemorySegment s = arena.allocate(4L * values.length, 16);
                MemorySegment.copy(values, 0, s, GroupQuantizer.F32, 0, values.length);
                return s;
            }

            @Override
            public MemorySegment weightData(Value param) {
                return switch (weights.apply(param)) {
                    case HostTensor.Dense d -> d.data();
                    case HostTensor.Quantized q -> q.data();
                };
            }

            @Override
            public MemorySegment weightScales(Value param) {
                return ((HostTensor.Quantized) weights.apply(param)).scales();
            }

            @Override
            public MemorySegment offset(MemorySegment buffer, long bytes) {
                return buffer.asSlice(bytes);
            }
        });
    }

    public SimulatedExecutor(Program program, MemoryPlan plan, Function<Value, HostTensor> weights, int maxSeq) {
        this(List.of(program), plan, weights, maxSeq);
    }

    /** Runs one step of {@code p} for {@code toks} at position {@code position}; returns the first output's floats. */
    public float[] run(Program p, int[] toks, int position) {
        for (int i = 0; i < toks.length; i++) layout.tokens().setAtIndex(GroupQuantizer.U32, i, toks[i]);
        layout.pos().set(GroupQuantizer.U32, 0, position);
        sim.stepBegins(); // kernels may read before their wait only what earlier steps wrote
        for (KernelCall call : p.launched()) {
            List<MemorySegment> bound = layout.bind(call);
            Map<String, MemorySegment> bufs = new HashMap<>();
            for (int i = 0; i < bound.size(); i++) bufs.put(call.kernel().buffers().get(i).name(), bound.get(i));
            sim.launch(call.kernel(), bufs, Map.of("seq", toks.length));
        }
        Value out = p.graph().outputs().getFirst();
        long n = out.type().shape().numel(Bindings.of("seq", toks.length));
        float[] r = new float[(int) n];
        MemorySegment seg = layout.tensor(out);
        for (int i = 0; i < n; i++) r[i] = seg.getAtIndex(GroupQuantizer.F32, i);
        return r;
    }

    @Override
    public void close() {
        arena.close();
    }
}
