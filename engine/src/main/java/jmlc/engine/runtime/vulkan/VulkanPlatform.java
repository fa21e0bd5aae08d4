package jmlc.engine.runtime.vulkan;

import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.GpuException;
import jmlc.engine.runtime.gpu.GpuPlatform;
import org.lwjgl.vulkan.VkInstance;
import org.lwjgl.vulkan.VkPhysicalDevice;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * GPUs through Vulkan (LWJGL over the system's Vulkan loader): devices {@code vulkan:0},
 * {@code vulkan:1} ... in the loader's order. {@link #detect()} lists the GPUs jmlc's kernels can
 * run on; a CPU implementation of Vulkan (Mesa's lavapipe) is used only when named
 * ({@code --device vulkan:N}, or {@code --device vulkan} when it is the only one), since jmlc's own
 * CPU backend is faster and {@code auto} must not pick it. {@link #unavailable()} says why the
 * loader, or each device left out, cannot be used.
 */
public final class VulkanPlatform implements GpuPlatform {
    public static final String NAME = "vulkan";
    private final VulkanDevice.Options options;
    private Detection detection;

    public VulkanPlatform() {
        this(VulkanDevice.Options.defaults());
    }

    /** Devices opened with {@code options} (a heap limit: memory left to others). */
    public VulkanPlatform(VulkanDevice.Options options) {
        this.options = options;
    }

    /** A platform over what a detection found (tests of the policy: which devices are listed, named, explained). */
    VulkanPlatform(Detection detection) {
        this(VulkanDevice.Options.defaults());
        this.detection = detection;
    }

    /** Every physical device probed, usable or not, or why none could be. */
    record Detection(List<DeviceProbe> devices, String error) {}

    @Override
    public String name() {
        return NAME;
    }

    synchronized Detection detection() {
        if (detection == null) detection = probeAll();
        return detection;
    }

    /** Probes every device the loader reports; never throws. */
    static Detection probeAll() {
        String loader = Vk.loaderError();
        if (!loader.isEmpty()) return new Detection(List.of(), loader);
        VkInstance instance;
        try {
            instance = Vk.acquire();
        } catch (Throwable t) {
            return new Detection(List.of(), "the Vulkan loader could not create an instance: " + t.getMessage()
                    + " (no Vulkan driver installed, or VK_DRIVER_FILES/VK_ICD_FILENAMES names none that loads)");
        }
        try {
            List<VkPhysicalDevice> pds = Vk.physicalDevices(instance);
            if (pds.isEmpty())
                return new Detection(List.of(), "the Vulkan loader found no device (no driver for this machine's GPU: NVIDIA's driver, "
                        + "or Mesa's mesa-vulkan-drivers; VK_DRIVER_FILES=" + System.getenv().getOrDefault("VK_DRIVER_FILES", "(unset)") + ")");
            List<DeviceProbe> out = new ArrayList<>();
            for (int i = 0; i < pds.size(); i++) {
                try {
                    out.add(DeviceProbe.probe(instance, pds.get(i), i));
                } catch (Throwable t) {
                    out.add(new DeviceProbe(i, new DeviceInfo("vulkan:" + i, NAME, "Vulkan device " + i, java.util.Map.of()), "probing it failed: " + t,
                            false, null, 0, DeviceProbe.SizeControl.NONE, false, false, false, false, -1, 0, 0, 0, 0, 0, null, null, 0, 0));
                }
            }
            return new Detection(out, "");
        } catch (Throwable t) {
            return new Detection(List.of(), "listing Vulkan devices failed: " + t.getMessage());
        } finally {
            Vk.release();
        }
    }

    /** The GPUs jmlc can run on (not CPU implementations of Vulkan: those only when named). */
    @Override
    public List<DeviceInfo> detect() {
        return detection().devices().stream().filter(d -> d.usable() && !d.software()).map(DeviceProbe::info).toList();
    }

    /**
     * Why there is no Vulkan device, or, when some were found, which devices were left out and why
     * (a device lacking a feature; a CPU implementation, usable only when named).
     */
    @Override
    public String unavailable() {
        Detection d = detection();
        if (!d.error().isEmpty()) return d.error();
        List<String> why = new ArrayList<>();
        for (DeviceProbe p : d.devices()) {
            if (!p.usable()) why.add(p.info() + " cannot run jmlc: " + p.unusable());
            else if (p.software())
                why.add(p.info() + " is Vulkan on the CPU (" + p.info().properties().get("driver") + ", subgroup size " + p.target().warpSize()
                        + "): --device auto skips it, the cpu backend is faster; name it with --device " + p.info().id());
        }
        if (why.isEmpty() && detect().isEmpty()) return "the Vulkan loader found no device";
        return String.join("; ", why);
    }

    /**
     * {@code vulkan:N}: device N if jmlc can run on it (a CPU implementation included); {@code vulkan}:
     * the first GPU, else the first usable device of any kind.
     */
    @Override
    public Optional<DeviceInfo> named(String id) {
        List<DeviceProbe> usable = detection().devices().stream().filter(DeviceProbe::usable).toList();
        if (id.equals(NAME))
            return usable.stream().filter(p -> !p.software()).findFirst().or(() -> usable.stream().findFirst()).map(DeviceProbe::info);
        return usable.stream().filter(p -> p.info().id().equals(id)).findFirst().map(DeviceProbe::info);
    }

    @Override
    public GpuDevice open(DeviceInfo device, RuntimeSettings settings) {
        return VulkanDevice.open(probe(device.id()), options);
    }

    /** The probe of a usable device {@code id}, or an error saying why it cannot be opened. */
    DeviceProbe probe(String id) {
        Detection d = detection();
        if (!d.error().isEmpty()) throw new GpuException("no Vulkan device " + id + ": " + d.error());
        DeviceProbe p = d.devices().stream().filter(x -> x.info().id().equals(id)).findFirst()
                .orElseThrow(() -> new GpuException("no Vulkan device " + id + ": found " + d.devices().stream().map(x -> x.info().toString()).toList()));
        if (!p.usable()) throw new GpuException(p.info() + " cannot run jmlc: " + p.unusable());
        return p;
    }
}
