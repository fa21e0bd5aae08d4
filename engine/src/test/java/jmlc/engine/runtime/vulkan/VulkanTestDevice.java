package jmlc.engine.runtime.vulkan;

import jmlc.engine.runtime.DeviceInfo;
import org.junit.jupiter.api.Assumptions;

/**
 * The Vulkan device tests run on: the first one jmlc can use, a GPU or Mesa's lavapipe (CI installs
 * mesa-vulkan-drivers). Where there is none the tests are skipped, saying why.
 */
final class VulkanTestDevice {
    private VulkanTestDevice() {}

    static final VulkanPlatform PLATFORM = new VulkanPlatform();

    /** The device's id (vulkan:N), or the test is skipped with the platform's reason. */
    static DeviceInfo require() {
        var d = PLATFORM.named(VulkanPlatform.NAME);
        Assumptions.assumeTrue(d.isPresent(), () -> "no Vulkan device jmlc can use here: " + PLATFORM.unavailable()
                + " (apt-get install mesa-vulkan-drivers libvulkan1 for lavapipe)");
        return d.get();
    }

    static VulkanDevice open() {
        return open(VulkanDevice.Options.defaults());
    }

    static VulkanDevice open(VulkanDevice.Options options) {
        return VulkanDevice.open(PLATFORM.probe(require().id()), options);
    }
}
