package jmlc.engine.runtime.cpu;

import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.ModelRunner;

/** Runs the compiled graph on the reference interpreter ({@code --device cpu:ref}): slow, and the definition of right. */
final class ReferenceRunner implements ModelRunner {
    private final CompiledModel model;
    private final ModelWeights weights;
    private final DeviceInfo device;
    private final ReferenceInterpreter interpreter;
    private final ReferenceInterpreter.State state = new ReferenceInterpreter.State();

    ReferenceRunner(CompiledModel model, ModelWeights weights, DeviceInfo device) {
        this.model = model;
        this.weights = weights;
        this.device = device;
        this.interpreter = new ReferenceInterpreter(model.graph(), weights::get);
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
    public float[] forward(int[] tokens, int pos) {
        if (pos == 0) state.clear();
        return interpreter.run(tokens, pos, state);
    }

    @Override
    public void close() {
        state.clear();
    }
}
