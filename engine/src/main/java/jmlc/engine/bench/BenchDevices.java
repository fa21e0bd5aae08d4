package jmlc.engine.bench;

import jmlc.engine.api.Backends;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.gpu.GpuBackend;

import java.util.Optional;

/** The GPU backend a bench script names, and the device it runs on. */
final class BenchDevices {
    private BenchDevices() {}

    /**
     * A GPU backend by name (cuda, vulkan, rocm, or a simulated device's {@code sim:cuda:sm_90}, whose backend is
     * {@code sim}); an error naming it when there is none of that name.
     */
    static GpuBackend backend(String spec) {
        String name = spec.startsWith("sim:") ? "sim" : spec;
        return Backends.all().stream().filter(x -> x instanceof GpuBackend && x.name().equals(name)).map(x -> (GpuBackend) x).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no GPU backend '" + spec + "'"));
    }

    /**
     * The device {@code spec} names ({@code sim:cuda:sm_90}), else the backend's first device, else the one its name
     * reaches (Vulkan on the CPU, for trying a script without a GPU).
     */
    static Optional<DeviceInfo> device(GpuBackend backend, String spec) {
        if (spec.contains(":")) return backend.named(spec);
        return backend.detect().stream().findFirst().or(() -> backend.named(backend.name()));
    }
}
