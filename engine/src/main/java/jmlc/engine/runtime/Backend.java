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

    /**
     * When {@link #detect} finds nothing: why, in words a user can act on (no driver library, no
     * device, a driver too old ...); empty when devices were found or the backend cannot tell.
     */
    default java.util.Optional<String> whyNone() {
        return java.util.Optional.empty();
    }

    /**
     * Throws, saying what to do, when this JVM cannot run {@code device} (a module or library it
     * needs is missing): called before a model is made or read for it, so a load fails at once, not
     * at its first step.
     */
    default void checkUsable(DeviceInfo device) {
    }

    /** Loads {@code model} with {@code weights} onto {@code device} (one this backend detected), reporting progress. */
    ModelRunner load(CompiledModel model, ModelWeights weights, DeviceInfo device, Progress progress);
}
