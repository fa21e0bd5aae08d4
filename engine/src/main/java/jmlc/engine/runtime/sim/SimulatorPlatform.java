package jmlc.engine.runtime.sim;

import jmlc.compiler.target.Target;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.GpuPlatform;

import java.util.List;
import java.util.Optional;

/**
 * The kernel simulator as a GPU platform: {@code --device sim:cuda:sm_90} (or {@code sim:rocm:gfx1100}
 * ...) runs a model through the generic GPU backend exactly as that target's runtime would, with
 * the kernels executed by the simulator. For tests and for following the GPU path without a GPU;
 * never chosen by {@code auto}, and far too slow for more than tiny models.
 */
public final class SimulatorPlatform implements GpuPlatform {
    public static final String NAME = "sim";

    @Override
    public String name() {
        return NAME;
    }

    /** None: a simulated device exists only when named. */
    @Override
    public List<DeviceInfo> detect() {
        return List.of();
    }

    @Override
    public String unavailable() {
        return "simulated GPUs are used only when named: --device sim:<target>, e.g. sim:cuda:sm_90 or sim:rocm:gfx1100";
    }

    /** {@code sim:<target>}: a simulated device of that target. */
    @Override
    public Optional<DeviceInfo> named(String id) {
        if (!id.startsWith(NAME + ":")) return Optional.empty();
        return Optional.of(SimulatedDevice.describe(Target.parse(id.substring(NAME.length() + 1))));
    }

    @Override
    public GpuDevice open(DeviceInfo device, RuntimeSettings settings) {
        return new SimulatedDevice(Target.parse(device.id().substring(NAME.length() + 1)));
    }
}
