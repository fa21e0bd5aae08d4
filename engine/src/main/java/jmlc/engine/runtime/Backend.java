package jmlc.engine.runtime;

import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.Progress;

import java.util.List;
import jmlc.engine.api.Backends;

/**
 * One kind of device jmlc runs on: detects its devices and loads compiled models onto them.
 * The registry is {@link Backends}.
 */
public interface Backend {

    /** {@code cpu}, {@code cuda}, {@code vulkan}, {@code rocm}: the prefix of device ids. */
    String name();

    /** Devices of this kind on this machine; empty when the driver or hardware is absent. Never throws. */
    List<DeviceInfo> detect();

    /** Loads {@code model} with {@code weights} onto {@code device} (one this backend detected), reporting progress. */
    ModelRunner load(CompiledModel model, ModelWeights weights, DeviceInfo device, Progress progress);
}
