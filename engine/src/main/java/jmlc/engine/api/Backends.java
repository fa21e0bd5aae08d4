package jmlc.engine.api;

import jmlc.engine.runtime.cpu.CpuBackend;
import jmlc.engine.runtime.cuda.CudaPlatform;
import jmlc.engine.runtime.gpu.GpuBackend;
import jmlc.engine.runtime.rocm.RocmPlatform;
import jmlc.engine.runtime.sim.SimulatorPlatform;
import jmlc.engine.runtime.vulkan.VulkanPlatform;

import java.util.ArrayList;
import java.util.List;
import jmlc.engine.runtime.Backend;
import jmlc.engine.runtime.DeviceInfo;

/**
 * The backends jmlc knows, in detection order (ROCm, CUDA, Vulkan, CPU): an explicit list.
 * {@code auto} picks the first device found; users can name one ({@code cuda:0}, {@code cpu}).
 */
public final class Backends {
    private Backends() {}

    private static final List<Backend> ALL = List.of(new GpuBackend(new RocmPlatform()), new GpuBackend(new CudaPlatform()),
            new GpuBackend(new VulkanPlatform()), new CpuBackend(),
            new GpuBackend(new SimulatorPlatform())); // only when named: sim:<target>

    public static List<Backend> all() {
        return ALL;
    }

    /** Every device every backend finds, in detection order. */
    public static List<DeviceInfo> detect() {
        List<DeviceInfo> all = new ArrayList<>();
        for (Backend b : all()) all.addAll(b.detect());
        return all;
    }

    public record Resolved(Backend backend, DeviceInfo device) {}

    /**
     * The device named {@code id}: {@code auto} (the first found in detection order), a backend's
     * name ({@code cuda}: its first device) or a device id ({@code cuda:1}, {@code cpu:ref},
     * {@code sim:cuda:sm_90}). When none matches, the error lists what was found and why a named
     * backend found nothing.
     */
    public static Resolved resolve(String id) {
        List<String> seen = new ArrayList<>();
        String prefix = id.contains(":") ? id.substring(0, id.indexOf(':')) : id;
        String why = "";
        for (Backend b : all()) {
            if (!id.equals("auto")) { // a backend's own name may name a device detection leaves out (Vulkan on the CPU)
                var named = b.named(id);
                if (named.isPresent()) return new Resolved(b, named.get());
            }
            for (DeviceInfo d : b.detect()) {
                if (id.equals("auto") || (id.equals(b.name()) && d.id().startsWith(b.name() + ":")) || (id.equals(b.name()) && d.id().equals(b.name())))
                    return new Resolved(b, d);
                seen.add(d.id());
            }
            if (b.name().equals(prefix) && !b.unavailable().isEmpty()) why = "; " + b.name() + ": " + b.unavailable();
        }
        throw new IllegalArgumentException("no device '" + id + "' here: found " + (seen.isEmpty() ? "none" : String.join(", ", seen)) + why);
    }
}
