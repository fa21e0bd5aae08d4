package jmlc.engine.runtime;

/**
 * Which device a tuning database belongs to: its product name, the target the compiler builds for
 * it, and its driver. Knobs tuned on one device are only used on one of the same name and target;
 * a different driver keeps them (with a note that they were measured under another).
 *
 * @param backend the backend that runs it ({@code cuda}, {@code cpu}, {@code sim}: the simulator's
 *                knobs are tuned for its modeled clock and never used for a real GPU of its target)
 * @param name    the product name ({@code NVIDIA H200}, {@code kernel simulator for cuda:sm_90})
 * @param target  the target ({@code cuda:sm_90}, {@code cpu:amd64_512})
 * @param driver  the driver's version as the runtime reports it ("" when it reports none)
 */
public record DeviceIdentity(String backend, String name, String target, String driver) {

    public DeviceIdentity {
        if (backend == null || backend.isBlank() || name == null || name.isBlank() || target == null || target.isBlank())
            throw new IllegalArgumentException("a device identity needs a backend, a name and a target");
        driver = driver == null ? "" : driver;
    }

    /** The identity of {@code device}, compiled for as {@code target}; the driver from its {@code driver} property. */
    public static DeviceIdentity of(DeviceInfo device, String target) {
        return new DeviceIdentity(device.backend(), device.name(), target, device.properties().getOrDefault("driver", ""));
    }

    /** Whether knobs tuned on {@code other} belong here: the same backend, name and target (the driver may differ). */
    public boolean sameDevice(DeviceIdentity other) {
        return backend.equals(other.backend) && name.equals(other.name) && target.equals(other.target);
    }

    /** A file name for this device's database: {@code cuda-cuda_sm_90-NVIDIA_H200.json}. */
    public String fileName() {
        return (backend + "-" + target + "-" + name).replaceAll("[^A-Za-z0-9.-]+", "_") + ".json";
    }

    @Override
    public String toString() {
        return name + " (" + target + (driver.isEmpty() ? "" : ", driver " + driver) + ")";
    }
}
