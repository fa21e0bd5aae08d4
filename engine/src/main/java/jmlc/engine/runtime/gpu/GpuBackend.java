package jmlc.engine.runtime.gpu;

import jmlc.compiler.build.Build;
import jmlc.compiler.schedule.Knobs;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.Progress;
import jmlc.engine.runtime.Backend;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.ModelRunner;
import jmlc.engine.runtime.RuntimeSettings;

import java.util.List;

/**
 * GPUs of one platform as a backend: opens the device, compiles the model for the device's target
 * with the tuning database's knobs ({@link Build#compile}, the one compile path), and runs it with
 * a {@link GpuRunner}. The same for CUDA, ROCm and Vulkan: a platform brings only its
 * {@link GpuPlatform} (detection and the device contract).
 */
public final class GpuBackend implements Backend {
    private final GpuPlatform platform;
    private List<DeviceInfo> found;

    public GpuBackend(GpuPlatform platform) {
        this.platform = platform;
    }

    @Override
    public String name() {
        return platform.name();
    }

    public GpuPlatform platform() {
        return platform;
    }

    @Override
    public synchronized List<DeviceInfo> detect() {
        if (found == null) found = platform.detect();
        return found;
    }

    @Override
    public java.util.Optional<DeviceInfo> named(String id) {
        return platform.named(id);
    }

    @Override
    public String unavailable() {
        return detect().isEmpty() ? platform.unavailable() : "";
    }

    @Override
    public ModelRunner load(CompiledModel model, ModelWeights weights, DeviceInfo device, RuntimeSettings settings, Progress progress) {
        return load(model, weights, device, settings, TuningDatabase.load(), progress);
    }

    /** {@link #load} with knob values from {@code knobs} instead of the tuning database. */
    public GpuRunner load(CompiledModel model, ModelWeights weights, DeviceInfo device, RuntimeSettings settings, Knobs knobs, Progress progress) {
        GpuDevice dev = platform.open(device, settings);
        try {
            progress.update("compiling for " + dev.target(), 0, 1);
            Build build = Build.compile(model.graph(), dev.target(), knobs, model.maxStepTokens());
            return new GpuRunner(dev, model, weights, build, GpuRunner.shortPrompt(knobs, dev.target(), model.maxStepTokens()), settings, progress);
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }
}
