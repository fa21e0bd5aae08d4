package jmlc.engine.bench;

import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.gpu.GpuBackend;
import jmlc.engine.runtime.gpu.GpuDevice;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static jmlc.compiler.kernel.K.*;

/**
 * What one kernel boundary costs inside a captured step, per GPU backend, on one card: a captured
 * graph (CUDA) or command buffer (Vulkan, ROCm) of {@code launches} dependent launches of a kernel
 * that does almost nothing ({@code out[i] += 1}), replayed and timed with device events; the time per
 * launch is what a decode step pays for each of its ~200 kernels beyond their own work. Checked: the
 * buffer ends holding the number of launches that ran.
 *
 * <pre>java ... jmlc.engine.bench.LaunchCost [--backends cuda,vulkan] [--launches 200]</pre>
 */
public final class LaunchCost {
    private LaunchCost() {}

    /** Microseconds a launch for grids of one block and of {@code wideBlocks} blocks of 256 threads. */
    record Row(String backend, String device, double tinyUs, double wideUs, int wideBlocks) {}

    public static void main(String[] args) {
        List<String> backends = List.of("cuda", "vulkan");
        int launches = 200;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backends" -> backends = List.of(args[++i].split(","));
                case "--launches" -> launches = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; expected --backends, --launches");
            }
        }
        List<Row> rows = new ArrayList<>();
        boolean failed = false;
        for (String b : backends) {
            GpuBackend backend = BenchDevices.backend(b);
            var found = BenchDevices.device(backend, b);
            if (found.isEmpty()) {
                System.out.println("no " + b + " device: " + backend.unavailable());
                failed = true;
                continue;
            }
            try {
                rows.add(measure(backend, found.get(), launches));
            } catch (RuntimeException e) {
                e.printStackTrace(System.out);
                System.out.println("FAIL " + b + ": " + e);
                failed = true;
            }
        }
        System.out.printf(Locale.ROOT, "%n==== one kernel boundary inside a captured step (%d dependent launches a replay, median of 7) ====%n", launches);
        System.out.printf(Locale.ROOT, "%-8s %-28s %14s %22s%n", "backend", "device", "1 block (us)", "wide grid (us)");
        for (Row r : rows)
            System.out.printf(Locale.ROOT, "%-8s %-28s %14.2f %15.2f (%d blocks)%n", r.backend(), r.device(), r.tinyUs(), r.wideUs(), r.wideBlocks());
        if (failed) System.exit(1);
    }

    static Row measure(GpuBackend backend, DeviceInfo info, int launches) {
        try (GpuDevice dev = backend.platform().open(info, RuntimeSettings.defaults()); Arena arena = Arena.ofConfined()) {
            int sms = dev.target().caps().multiprocessors();
            int wide = Math.max(1, sms);
            double tiny = perLaunch(dev, arena, 1, launches);
            double wideUs = perLaunch(dev, arena, wide, launches);
            return new Row(backend.name(), info.name(), tiny, wideUs, wide);
        }
    }

    /** Median microseconds a launch of {@code blocks} blocks of 256 threads, each thread adding 1 to its element. */
    static double perLaunch(GpuDevice dev, Arena arena, int blocks, int launches) {
        int n = blocks * 256;
        Kernel k = plusOne(dev, blocks);
        GpuDevice.LoadedKernel loaded = dev.load(k, dev.target().codegen().emit(k));
        long a = dev.alloc(4L * n, "launch-cost counters");
        try {
            dev.zero(a, 4L * n);
            int replays = 0;
            try (GpuDevice.Captured g = dev.capture(() -> {
                for (int i = 0; i < launches; i++) dev.launch(loaded, new int[] {blocks, 1, 1}, new long[] {a}, new int[] {n});
            })) {
                g.replay();
                replays++;
                List<Double> us = new ArrayList<>();
                for (int s = 0; s < 7; s++) {
                    us.add(1000.0 * dev.time(g::replay) / launches);
                    replays++;
                }
                MemorySegment out = arena.allocate(4L * n, 16);
                dev.download(out, a, 4L * n);
                float expected = (float) replays * launches;
                for (int i = 0; i < n; i += 97)
                    if (out.getAtIndex(GroupQuantizer.F32, i) != expected)
                        throw new IllegalStateException(k.name() + " on " + dev.info().id() + ": element " + i + " is " + out.getAtIndex(GroupQuantizer.F32, i)
                                + ", expected " + expected + " (every launch of every replay adds 1)");
                us.sort(null);
                return us.get(us.size() / 2);
            }
        } finally {
            dev.free(a);
        }
    }

    /** out[i] += 1 for i < n. */
    static Kernel plusOne(GpuDevice dev, int blocks) {
        Buffer out = new Buffer("out", KType.F32, false);
        Expr.Var n = var("n", KType.I32);
        K.Body body = new K.Body();
        Expr.Var i = body.let("i", add(mul(bid(0), c(256)), tid(0)));
        body.ifThen(lt(i, n), x -> x.store(out, i, add(loadF32(out, i), f(1f))));
        return Kernel.checked("plus_one_b" + blocks, List.of(out), List.of(n), List.of(), body.build(), new int[] {256, 1, 1},
                new Expr[] {c(blocks), c(1), c(1)}, Map.of(), "out[i] += 1: a kernel boundary with almost no work", dev.target().caps());
    }
}
