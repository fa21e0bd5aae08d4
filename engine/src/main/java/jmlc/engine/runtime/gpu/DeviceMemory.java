package jmlc.engine.runtime.gpu;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** Device allocations made for one loaded model, freed together when it closes. */
final class DeviceMemory implements AutoCloseable {
    private final GpuDevice dev;
    private final List<Long> allocations = new ArrayList<>();

    DeviceMemory(GpuDevice dev) {
        this.dev = dev;
    }

    /** {@code bytes} of device memory; {@code what} names the buffer in an out-of-memory error. */
    long alloc(long bytes, String what) {
        long a = dev.alloc(bytes, what);
        allocations.add(a);
        return a;
    }

    long zeroed(long bytes, String what) {
        long a = alloc(bytes, what);
        dev.zero(a, bytes);
        return a;
    }

    /** A buffer holding the first {@code bytes} of {@code src}. */
    long upload(MemorySegment src, long bytes, String what) {
        long a = alloc(bytes, what);
        dev.upload(a, src, bytes);
        return a;
    }

    @Override
    public void close() {
        for (long a : allocations) dev.free(a);
        allocations.clear();
    }
}
