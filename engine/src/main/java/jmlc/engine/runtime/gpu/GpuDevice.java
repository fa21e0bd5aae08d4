package jmlc.engine.runtime.gpu;

import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.target.Target;
import jmlc.engine.runtime.DeviceInfo;

import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * The contract every GPU runtime implements (CUDA now; HIP and Vulkan next): memory, kernels
 * compiled from generated source, launches, synchronization, timing, and capture/replay of a
 * sequence of launches. {@link GpuRunner} runs compiled models on any of them.
 * Device addresses are plain longs.
 */
public interface GpuDevice extends AutoCloseable {

    DeviceInfo info();

    /** What the compiler targets on this device (arch, warp size, SM count). */
    Target target();

    /** Bytes of device memory free now. */
    long freeBytes();

    /** Allocates {@code bytes}; {@code what} names the buffer in an out-of-memory error. */
    long alloc(long bytes, String what);

    void free(long address);

    void upload(long dst, MemorySegment src, long bytes);

    /**
     * Page-locked host memory, which the device reads and writes directly: what the per-token
     * copies ({@link #uploadAsync}, {@link #downloadAsync}) go through. Freed with the device.
     */
    MemorySegment pinned(long bytes);

    /** Queues a copy from pinned host memory; it happens in order with launches. */
    void uploadAsync(long dst, MemorySegment src, long bytes);

    /** Queues a copy to pinned host memory; valid after {@link #synchronize()}. */
    void downloadAsync(MemorySegment dst, long src, long bytes);

    /** Sets {@code bytes} bytes at {@code dst} to zero. */
    void zero(long dst, long bytes);

    /** Device-to-device copy (queued on the device's stream). */
    void copy(long dst, long src, long bytes);

    void download(MemorySegment dst, long src, long bytes);

    /** Compiles generated source for this device (cached on disk by source hash and device). */
    LoadedKernel load(Kernel kernel, String source);

    /** Queues a launch; {@code buffers} are device addresses in the kernel's buffer order, then its scalars. */
    default void launch(LoadedKernel k, int[] grid, long[] buffers, int[] scalars) {
        try (Launch l = prepare(k, buffers)) {
            l.launch(grid, scalars);
        }
    }

    /** A launch with its buffer arguments bound once, for launching again and again (parameter memory reused). */
    Launch prepare(LoadedKernel k, long[] buffers);

    /**
     * As {@link #prepare(LoadedKernel, long[])}; {@code dependent}: a launch of the decode step, which
     * the device may start while the launch before it drains where it can and its settings allow
     * (programmatic dependent launch on CUDA sm_90+); elsewhere the same as a plain launch.
     */
    default Launch prepare(LoadedKernel k, long[] buffers, boolean dependent) {
        return prepare(k, buffers);
    }

    interface Launch extends AutoCloseable {
        LoadedKernel kernel();

        /** Queues the kernel with these grid dimensions and scalar values. */
        void launch(int[] grid, int[] scalars);

        @Override
        void close();
    }

    /** Waits until every queued launch and copy has finished (surfacing asynchronous errors). */
    void synchronize();

    /** A point in the device's queue: what was queued before it is done when it is. */
    interface Event extends AutoCloseable {
        /** Marks the current end of the queue. */
        void record();

        /** Waits until the device has reached the point last recorded. */
        void synchronize();

        @Override
        void close();
    }

    Event event();

    /** Records the launches {@code body} queues into a replayable graph instead of running them. */
    Captured capture(Runnable body);

    /** Milliseconds the device spent on what {@code body} queues, by device events. */
    float time(Runnable body);

    /**
     * Whether {@link #time} is a modeled clock that gives the same figure every time (the kernel
     * simulator's), so a measurement needs no repeats; false for real devices.
     */
    default boolean modeledClock() {
        return false;
    }

    @Override
    void close();

    /** A kernel ready to launch on this device. */
    interface LoadedKernel {
        Kernel kernel();

        /**
         * What the driver reports of the kernel as it compiled it, by name, in the driver's words
         * (CUDA: registers a thread, local memory, blocks a multiprocessor holds; Vulkan: the pipeline
         * executable's statistics where the driver has VK_KHR_pipeline_executable_properties); empty
         * where it reports nothing.
         */
        default Map<String, String> statistics() {
            return Map.of();
        }

        /**
         * Blocks of this kernel one multiprocessor keeps resident at once, as it was compiled (its
         * registers and shared memory against a multiprocessor's); 0 where unknown. With
         * {@link #multiprocessors()}, what {@link LaunchGrid} fits persistent grids to.
         */
        default int blocksPerMultiprocessor() {
            return 0;
        }

        /** The multiprocessors of the device the kernel was loaded on; 0 where unknown. */
        default int multiprocessors() {
            return 0;
        }

        /** Blocks of this kernel the whole device keeps resident at once; 0 where unknown. */
        default int residentBlocks() {
            return blocksPerMultiprocessor() * multiprocessors();
        }
    }

    /** A captured sequence of launches. */
    interface Captured extends AutoCloseable {
        void replay();

        @Override
        void close();
    }
}
