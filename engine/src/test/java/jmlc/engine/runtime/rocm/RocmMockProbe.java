package jmlc.engine.runtime.rocm;

import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.kernel.Stmt;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.KernelCompileException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static jmlc.compiler.kernel.K.*;

/**
 * Drives the ROCm runtime through every call of the device contract, in a process of its own whose
 * environment points {@code JMLC_HIP_LIBRARY} at the HIP-on-CUDA library and that library at a mock
 * driver ({@link HipOnCudaTest}); prints one line a step for the test to check.
 */
public final class RocmMockProbe {
    public static void main(String[] args) {
        RocmPlatform p = new RocmPlatform();
        List<DeviceInfo> found = p.detect();
        if (found.isEmpty()) {
            System.out.println("UNAVAILABLE " + p.unavailable());
            System.exit(3);
        }
        DeviceInfo d = found.getFirst();
        System.out.println("DEVICE " + d.id() + " | " + d.name() + " | " + d.properties().get("architecture") + " | HIP " + p.version());
        try (GpuDevice dev = p.open(d, RuntimeSettings.defaults()); Arena a = Arena.ofConfined()) {
            System.out.println("TARGET " + dev.target() + (dev.target().caps().gridBarrier() ? " with grid barriers" : " without grid barriers"));
            int n = 1000;
            MemorySegment host = a.allocate(4L * n, 16);
            for (int i = 0; i < n; i++) host.setAtIndex(JAVA_FLOAT, i, i);
            long x = dev.alloc(4L * n, "x"), y = dev.alloc(4L * n, "y");
            dev.upload(x, host, 4L * n);
            System.out.println("ROUNDTRIP " + (equalsRamp(dev, x, n, 0, a) ? "ok" : "differs"));
            dev.copy(y, x, 4L * n);
            dev.zero(x, 4L * n);
            System.out.println("COPY " + (equalsRamp(dev, y, n, 0, a) ? "ok" : "differs") + " ZERO " + (equalsRamp(dev, x, n, -1, a) ? "ok" : "differs"));

            // probe(x, n, add): x[i] += add, printed by the target's code generator, compiled by hiprtc
            Buffer xb = new Buffer("x", KType.F32, false);
            Expr.Var nv = var("n", KType.I32), add = var("add", KType.I32), i = var("i", KType.I32);
            Stmt body = new Stmt.Block(List.of(new Stmt.For(i, tid(0), nv, c(64), 0,
                    new Stmt.Store(xb, i, add(load(xb, i), cast(KType.F32, add))))));
            Kernel probe = new Kernel("probe", List.of(xb), List.of(nv, add), List.of(), body, new int[] {64, 1, 1}, new Expr[] {c(1), c(1), c(1)}, Map.of(), "x[i] += add");
            GpuDevice.LoadedKernel k = dev.load(probe, dev.target().codegen().emit(probe));
            dev.launch(k, new int[] {1, 1, 1}, new long[] {y}, new int[] {n, 3});
            System.out.println("LAUNCH " + (equalsRamp(dev, y, n, 3, a) ? "ok" : "differs"));

            // captured: nothing runs until replayed; each replay runs both launches
            GpuDevice.Launch l1 = dev.prepare(k, new long[] {y}), l2 = dev.prepare(k, new long[] {y});
            GpuDevice.Captured g = dev.capture(() -> {
                l1.launch(new int[] {1, 1, 1}, new int[] {n, 1});
                l2.launch(new int[] {1, 1, 1}, new int[] {n, 2});
            });
            boolean untouched = equalsRamp(dev, y, n, 3, a);
            g.replay();
            g.replay();
            System.out.println("CAPTURE " + (untouched && equalsRamp(dev, y, n, 9, a) ? "ok" : "differs"));
            g.close();
            l1.close();
            l2.close();

            MemorySegment pinned = dev.pinned(4L * n);
            dev.downloadAsync(pinned, y, 4L * n);
            GpuDevice.Event e = dev.event();
            e.record();
            e.synchronize();
            boolean same = true;
            for (int j = 0; j < n; j++) same &= pinned.getAtIndex(JAVA_FLOAT, j) == j + 9;
            pinned.setAtIndex(JAVA_FLOAT, 0, -5);
            dev.uploadAsync(y, pinned, 4);
            dev.synchronize();
            MemorySegment back = a.allocate(4);
            dev.download(back, y, 4);
            System.out.println("PINNED " + (same && back.get(JAVA_FLOAT, 0) == -5 ? "ok" : "differs"));
            e.close();
            System.out.println("TIME " + dev.time(() -> dev.launch(k, new int[] {1, 1, 1}, new long[] {y}, new int[] {n, 1})));
            System.out.println("FREE " + dev.freeBytes());
            try {
                dev.load(new Kernel("broken", List.of(xb), List.of(), List.of(), new Stmt.Block(List.of()), new int[] {64, 1, 1},
                        new Expr[] {c(1), c(1), c(1)}, Map.of(), "-"), "#error broken on purpose\n");
                System.out.println("ERROR none");
            } catch (KernelCompileException ex) {
                System.out.println("ERROR " + ex.getMessage().lines().findFirst().orElse("") + " | " + ex.log().strip());
            }
            dev.free(x);
            dev.free(y);
        }
        System.out.println("CLOSED");
    }

    /** Whether device floats at {@code at} are i + add (add -1: all zero). */
    private static boolean equalsRamp(GpuDevice dev, long at, int n, int add, Arena a) {
        MemorySegment out = a.allocate(4L * n, 16);
        dev.download(out, at, 4L * n);
        for (int i = 0; i < n; i++) if (out.getAtIndex(JAVA_FLOAT, i) != (add < 0 ? 0 : i + add)) return false;
        return true;
    }
}
