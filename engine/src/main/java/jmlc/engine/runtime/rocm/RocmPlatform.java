package jmlc.engine.runtime.rocm;

import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.GpuException;
import jmlc.engine.runtime.gpu.GpuPlatform;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * AMD GPUs through ROCm's HIP runtime and hiprtc, bound with Java's foreign function API
 * ({@link Hip}): devices {@code rocm:0}, {@code rocm:1} ... Nothing of it has run on AMD hardware
 * yet: CI checks the bindings against Debian's libamdhip64 without a GPU, and the GPU machine runs
 * this runtime on an NVIDIA GPU through jmlc's HIP-on-CUDA test library ({@code JMLC_HIP_LIBRARY},
 * bench/hip-on-cuda/).
 */
public final class RocmPlatform implements GpuPlatform {
    private final Map<String, String> env;
    private Detection detection;
    private Hip hip;
    private String version = "?";

    /** What detection found: the devices, or why there are none. */
    record Detection(List<DeviceInfo> devices, String unavailable) {}

    public RocmPlatform() {
        this(System.getenv());
    }

    /** With {@code env} in place of the process environment ({@code JMLC_HIP_LIBRARY}, {@code JMLC_HIPRTC_LIBRARY}, {@code ROCM_PATH}). */
    public RocmPlatform(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public String name() {
        return "rocm";
    }

    private synchronized Detection detection() {
        if (detection == null) detection = detectNow();
        return detection;
    }

    /** Loads the runtime and lists its devices; every failure is a reason, never an exception. */
    private Detection detectNow() {
        try {
            hip = Hip.load(env);
        } catch (Hip.Unavailable e) {
            return new Detection(List.of(), e.getMessage());
        } catch (Throwable t) { // a library that is not what its name says
            return new Detection(List.of(), "the HIP runtime could not be loaded: " + t);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT), n = a.allocate(JAVA_INT);
            int st = hip.runtimeGetVersion(v);
            version = st == Hip.SUCCESS ? Hip.version(v.get(JAVA_INT, 0)) : "unknown (hipRuntimeGetVersion: " + hip.describe(st) + ")";
            st = hip.getDeviceCount(n);
            String lib = hip.library + ", HIP " + version;
            if (st == Hip.ERROR_NO_DEVICE || (st == Hip.SUCCESS && n.get(JAVA_INT, 0) == 0))
                return new Detection(List.of(), "the HIP runtime (" + lib + ") reports no GPU" + (st == Hip.SUCCESS ? "" : ": hipGetDeviceCount returned " + hip.describe(st)));
            if (st != Hip.SUCCESS) return new Detection(List.of(), "hipGetDeviceCount failed with " + hip.describe(st) + " (" + lib + ")");
            List<DeviceInfo> out = new ArrayList<>();
            List<String> skipped = new ArrayList<>();
            for (int i = 0; i < n.get(JAVA_INT, 0); i++) {
                try {
                    out.add(RocmDevice.describe(hip, i, version).info());
                } catch (GpuException | IllegalArgumentException e) {
                    skipped.add("rocm:" + i + ": " + e.getMessage());
                }
            }
            return new Detection(out, out.isEmpty() ? String.join("; ", skipped) : "");
        } catch (Throwable t) {
            return new Detection(List.of(), "the HIP runtime (" + hip.library + ") failed while listing devices: " + t);
        }
    }

    @Override
    public List<DeviceInfo> detect() {
        return detection().devices();
    }

    @Override
    public String unavailable() {
        return detection().unavailable();
    }

    /** The HIP runtime's version, as detection read it ({@code 6.3.42131}). */
    public String version() {
        detection();
        return version;
    }

    @Override
    public GpuDevice open(DeviceInfo device, RuntimeSettings settings) {
        if (detection().devices().stream().noneMatch(d -> d.id().equals(device.id())))
            throw new IllegalArgumentException("no ROCm device " + device.id() + " here" + (unavailable().isEmpty() ? "" : ": " + unavailable()));
        return new RocmDevice(hip, Integer.parseInt(device.id().substring("rocm:".length())), version);
    }
}
