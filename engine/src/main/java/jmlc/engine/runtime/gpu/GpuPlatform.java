package jmlc.engine.runtime.gpu;

import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.RuntimeSettings;

import java.util.List;

/**
 * A GPU runtime: what a new platform implements, and all it implements. It finds its devices and
 * opens one as a {@link GpuDevice} (memory, compilation, launches, capture, timing);
 * {@link GpuBackend} does the rest (compiling the model for the device's target, the tuning
 * database, the runner) the same way for every platform.
 */
public interface GpuPlatform {

    /** The device-id prefix and backend name: {@code cuda}, {@code rocm}, {@code vulkan}. */
    String name();

    /**
     * The devices this platform has here, in order; empty when its library, driver or devices are
     * absent (never an exception). {@link #unavailable()} then says why.
     */
    List<DeviceInfo> detect();

    /** Why {@link #detect()} found nothing ("no libcuda.so.1", "the driver reports no device"), or empty when it found devices. */
    String unavailable();

    /** The device a user named with {@code id} ({@code cuda:1}): by default one {@link #detect()} found. */
    default java.util.Optional<DeviceInfo> named(String id) {
        return detect().stream().filter(d -> d.id().equals(id)).findFirst();
    }

    /** Opens {@code device} (one {@link #detect()} or {@link #named} returned) with {@code settings}. */
    GpuDevice open(DeviceInfo device, RuntimeSettings settings);
}
