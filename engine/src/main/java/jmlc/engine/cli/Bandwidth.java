package jmlc.engine.cli;

import jmlc.engine.runtime.DeviceInfo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.Optional;

/**
 * The memory bandwidth a roofline divides by, and where it came from: {@code --bandwidth}, the
 * device's own figure (a runtime reports a measured copy bandwidth as the property
 * {@value #PROPERTY}, e.g. "3010 GB/s", or at least the spec's {@value #PEAK_PROPERTY}), or,
 * for the CPU, a quick streaming read measured here.
 */
record Bandwidth(double bytesPerSecond, String source) {

    /** Where the measurement's sums go, so the JIT cannot drop the reads. */
    private static volatile long sink;

    /** The {@link DeviceInfo#properties()} key of a measured bandwidth ("3010 GB/s"): preferred. */
    static final String PROPERTY = "bandwidth";
    /** The key of the memory's spec bandwidth (clock × bus width), which real copies do not reach. */
    static final String PEAK_PROPERTY = "peak memory bandwidth";

    /** The bandwidth for {@code device}: the user's, the device's, a CPU measurement, or none. */
    static Optional<Bandwidth> of(DeviceInfo device, Double givenGBs) {
        if (givenGBs != null) return Optional.of(new Bandwidth(givenGBs * 1e9, "--bandwidth"));
        Optional<Bandwidth> reported = reported(device);
        if (reported.isPresent()) return reported;
        if (willMeasure(device, givenGBs)) return Optional.of(measureCpu(1L << 30, Runtime.getRuntime().availableProcessors()));
        return Optional.empty();
    }

    /** Whether {@link #of} will measure (a second or so), so callers can say so first. */
    static boolean willMeasure(DeviceInfo device, Double givenGBs) {
        return givenGBs == null && reported(device).isEmpty() && device.backend().equals("cpu");
    }

    /** The device's own figure, measured if it has one, else its spec's peak. */
    private static Optional<Bandwidth> reported(DeviceInfo device) {
        for (String key : new String[] {PROPERTY, PEAK_PROPERTY}) {
            String p = device.properties().get(key);
            if (p == null) continue;
            try {
                return Optional.of(new Bandwidth(Double.parseDouble(p.replaceAll("(?i)\\s*GB/s\\s*$", "")) * 1e9, device.id() + "'s " + key));
            } catch (NumberFormatException e) {
                // a figure we cannot read: try the next
            }
        }
        return Optional.empty();
    }

    /**
     * Reads an off-heap buffer of {@code bytes} with {@code threads} threads, each streaming its
     * slice as longs, three times; the best pass counts (the first warms up the code and pages).
     */
    static Bandwidth measureCpu(long bytes, int threads) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(bytes, 4096);
            long slice = bytes / threads / 64 * 64;
            parallel(threads, t -> buf.asSlice(t * slice, slice).fill((byte) t)); // touch every page, each thread its own
            long best = Long.MAX_VALUE;
            for (int pass = 0; pass < 3; pass++) {
                long t0 = System.nanoTime();
                parallel(threads, t -> sink += sum(buf, t * slice, slice)); // racy on purpose: only keeps the reads alive
                best = Math.min(best, System.nanoTime() - t0);
            }
            return new Bandwidth(slice * threads * 1e9 / best,
                    String.format(Locale.ROOT, "measured: streaming read of %s with %d threads", ProgressBar.bytes(bytes), threads));
        }
    }

    private static long sum(MemorySegment s, long from, long length) {
        long a = 0, b = 0, c = 0, d = 0;
        for (long i = from, end = from + length; i < end; i += 32) {
            a += s.get(ValueLayout.JAVA_LONG_UNALIGNED, i);
            b += s.get(ValueLayout.JAVA_LONG_UNALIGNED, i + 8);
            c += s.get(ValueLayout.JAVA_LONG_UNALIGNED, i + 16);
            d += s.get(ValueLayout.JAVA_LONG_UNALIGNED, i + 24);
        }
        return a + b + c + d;
    }

    private interface Slice {
        void run(int thread);
    }

    private static void parallel(int threads, Slice work) {
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts[t] = Thread.ofPlatform().name("jmlc-bandwidth-" + t).start(() -> work.run(id));
        }
        for (Thread t : ts) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("bandwidth measurement interrupted", e);
            }
        }
    }

    String describe() {
        return String.format(Locale.ROOT, "%.1f GB/s (%s)", bytesPerSecond / 1e9, source);
    }
}
