package jmlc.engine.runtime;

import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.Progress;

import java.util.List;

/**
 * One kind of device jmlc runs on: detects its devices and loads compiled models onto them.
 * The registry is {@code jmlc.engine.api.Backends}; GPUs of every platform share one
 * implementation ({@code runtime.gpu.GpuBackend}) over a platform's runtime.
 */
public interface Backend {

    /** {@code cpu}, {@code cuda}, {@code vulkan}, {@code rocm}: the prefix of device ids. */
    String name();

    /** Devices of this kind on this machine; empty when the driver or hardware is absent. Never throws. */
    List<DeviceInfo> detect();

    /** The device a user named with {@code id} ({@code cuda:1}, {@code cpu:ref}): by default one {@link #detect()} found. */
    default java.util.Optional<DeviceInfo> named(String id) {
        return detect().stream().filter(d -> d.id().equals(id)).findFirst();
    }

    /** Why {@link #detect()} found no device (the library, the driver, no hardware), or "" when it found some. */
    default String unavailable() {
        return "";

    }

    /**
     * Throws, saying what to do, when this JVM cannot run {@code device} (a module or library it
     * needs is missing): called before a model is made or read for it, so a load fails at once, not
     * at its first step.
     */
    default void checkUsable(DeviceInfo device) {
    }

    /** Loads {@code model} with {@code weights} onto {@code device} (one this backend detected), reporting progress. */
    ModelRunner load(CompiledModel model, ModelWeights weights, DeviceInfo device, RuntimeSettings settings, Progress progress);

    /**
     * How to tune {@code model}'s kernels on {@code device}: its tasks and a measurer for the device
     * ({@link TuningSetup}); empty where there is nothing to tune (the reference interpreter).
     * Warnings (a database that cannot be used) go to {@code progress}.
     */
    default java.util.Optional<TuningSetup> tuning(CompiledModel model, DeviceInfo device, TuningSetup.Options options, Progress progress) {
        return java.util.Optional.empty();
    }

    /** {@link #load} with the default runtime settings. */
    default ModelRunner load(CompiledModel model, ModelWeights weights, DeviceInfo device, Progress progress) {
        return load(model, weights, device, RuntimeSettings.defaults(), progress);
    }
}
