package jmlc.engine.model;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Value;
import jmlc.compiler.tensor.HostTensor;
import jmlc.engine.format.tensor.Interrupts;

import java.lang.foreign.Arena;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * What the ways of making a compiled model's weights share: each param is made once, on first
 * use or all at once with progress, into off-heap memory that lives as long as the weights.
 */
abstract class PackedWeights implements ModelWeights {
    protected final Graph graph;
    protected final Arena arena = Arena.ofShared();
    private final Map<Value, HostTensor> made = new IdentityHashMap<>();

    PackedWeights(Graph graph) {
        this.graph = graph;
    }

    /** Makes the stored tensor of one param of {@link #graph}. */
    protected abstract HostTensor make(Value param);

    @Override
    public synchronized HostTensor get(Value param) {
        graph.weightSource(param); // a clear error for a value that is no param of this graph
        HostTensor t = made.get(param);
        if (t == null) {
            t = make(param);
            made.put(param, t);
        }
        return t;
    }

    /** Makes every param now, reporting bytes done under {@code stage}. */
    protected void makeAll(String stage, Progress progress) {
        long total = totalBytes(), done = 0;
        progress.update(stage, 0, total);
        for (Value p : graph.params()) {
            Interrupts.check(null, stage);
            done += get(p).byteSize();
            progress.update(stage, done, total);
        }
    }

    @Override
    public long totalBytes() {
        return ModelWeights.bytesOf(graph);
    }

    @Override
    public void close() {
        arena.close();
    }
}
