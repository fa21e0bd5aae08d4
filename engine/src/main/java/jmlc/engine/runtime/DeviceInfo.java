package jmlc.engine.runtime;

import java.util.Map;

/**
 * A device as detection found it.
 *
 * @param id         what users write: {@code cpu}, {@code cuda:0}, {@code vulkan:0}
 * @param backend    the backend that runs it ({@link Backend#name()})
 * @param name       the product name ({@code NVIDIA H100 80GB HBM3})
 * @param properties what users want to know, in display order (memory, SMs, compute capability ...)
 */
public record DeviceInfo(String id, String backend, String name, Map<String, String> properties) {

    @Override
    public String toString() {
        return id + " (" + name + ")";
    }
}
