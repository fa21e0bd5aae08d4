package jmlc.engine.api;

import jmlc.engine.runtime.cpu.CpuBackend;
import jmlc.engine.runtime.cuda.CudaBackend;

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

    private static final List<Backend> ALL = List.of(new CudaBackend(), new CpuBackend());

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

    /** The device named {@code id} ({@code auto}: the first found). */
    public static Resolved resolve(String id) {
        List<String> seen = new ArrayList<>();
        for (Backend b : all()) {
            for (DeviceInfo d : b.detect()) {
                if (id.equals("auto") || d.id().equals(id) || (id.equals(b.name()) && d.id().startsWith(b.name())))
                    return new Resolved(b, d);
                seen.add(d.id());
            }
        }
        throw new IllegalArgumentException("no device '" + id + "' here: found " + (seen.isEmpty() ? "none" : String.join(", ", seen)));
    }
}
