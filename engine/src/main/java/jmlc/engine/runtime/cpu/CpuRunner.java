package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.Bindings;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Value;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.ModelRunner;

import java.util.Map;

/**
 * Runs the compiled graph on the CPU ({@code --device cpu}) with a {@link CpuExecutor}: Vector API
 * kernels on all cores, each matmul with the knob values of the CPU's tuning database.
 */
final class CpuRunner implements ModelRunner {
    private final CompiledModel model;
    private final DeviceInfo device;
    private final Graph graph;
    private final CpuExecutor executor;
    private final Map<Node, CpuKnobs.Matmul> knobs;

    CpuRunner(CompiledModel model, ModelWeights weights, DeviceInfo device, Map<Node, CpuKnobs.Matmul> knobs) {
        this.model = model;
        this.device = device;
        this.graph = model.graph();
        this.knobs = Map.copyOf(knobs);
        this.executor = new CpuExecutor(graph, model.pipeline().memory(), model.maxStepTokens(), model.maxContext(), weights::get, knobs);
    }

    @Override
    public float[] forward(int[] tokens, int pos) {
        int seq = tokens.length;
        if (seq > model.maxStepTokens()) throw new IllegalArgumentException(seq + " tokens in one step; the most is " + model.maxStepTokens());
        if (pos + seq > maxContext()) throw new IllegalArgumentException("positions " + pos + ".." + (pos + seq - 1) + " exceed the KV cache of " + maxContext());
        executor.run(tokens, pos);
        Value out = graph.outputs().getFirst();
        int count = (int) out.type().shape().numel(Bindings.of("seq", seq));
        return java.util.Arrays.copyOf(executor.buf(out), count);
    }

    /** The knob values of each matmul node (the tuning database's, else the defaults). */
    Map<Node, CpuKnobs.Matmul> knobs() {
        return knobs;
    }

    @Override
    public DeviceInfo device() {
        return device;
    }

    @Override
    public CompiledModel model() {
        return model;
    }

    @Override
    public void close() {
        executor.close();
    }
}
