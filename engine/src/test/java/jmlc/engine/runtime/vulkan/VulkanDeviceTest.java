package jmlc.engine.runtime.vulkan;

import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.GpuException;
import jmlc.engine.runtime.gpu.KernelCompileException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static jmlc.compiler.kernel.K.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The GpuDevice contract on a Vulkan device (lavapipe in CI): memory and copies of every kind,
 * pinned memory, the in-order queue, capture and replay, events, timing, addresses into the middle
 * of a buffer, a shader that does not compile, and running out of memory.
 */
class VulkanDeviceTest {
    static VulkanDevice dev;
    static final Arena arena = Arena.ofShared();

    @BeforeAll
    static void open() {
        dev = VulkanTestDevice.open();
    }

    @AfterAll
    static void close() {
        if (dev != null) dev.close();
    }

    /** out[i] = out[i] * a + b for i < n: shows order (each launch reads what the one before wrote). */
    static Kernel axpb(float a, float b) {
        Buffer out = new Buffer("out", KType.F32, false);
        Expr.Var n = var("n", KType.I32);
        K.Body body = new K.Body();
        Expr.Var i = body.let("i", add(mul(bid(0), c(64)), tid(0)));
        body.ifThen(lt(i, n), x -> x.store(out, i, fma(loadF32(out, i), f(a), f(b))));
        return Kernel.checked("axpb_" + Float.floatToIntBits(a) + "_" + Float.floatToIntBits(b), List.of(out), List.of(n), List.of(), body.build(),
                new int[] {64, 1, 1}, new Expr[] {c(1024), c(1), c(1)}, Map.of(), "test: out = out * a + b", dev.target().caps());
    }

    static GpuDevice.LoadedKernel load(Kernel k) {
        return dev.load(k, dev.target().codegen().emit(k));
    }

    static float[] read(long addr, int n) {
        MemorySegment m = arena.allocate(4L * n, 16);
        dev.download(m, addr, 4L * n);
        return m.toArray(GroupQuantizer.F32);
    }

    static long upload(float[] v) {
        MemorySegment m = arena.allocate(4L * v.length, 16);
        MemorySegment.copy(v, 0, m, GroupQuantizer.F32, 0, v.length);
        long a = dev.alloc(4L * v.length, "test floats");
        dev.upload(a, m, 4L * v.length);
        return a;
    }

    /**
     * Devices opened and closed again and again, beside one that stays open, as a notebook reloading
     * models does: they share the process's instance (closing one must not end it), and each runs.
     */
    @Test
    void devicesOpenAndCloseManyTimesBesideAnOpenOne() {
        Kernel k = axpb(2f, 1f);
        for (int i = 0; i < 30; i++) {
            try (VulkanDevice other = VulkanTestDevice.open()) {
                long a = other.alloc(4L * 64, "reopened device's floats");
                other.zero(a, 4L * 64);
                other.launch(other.load(k, other.target().codegen().emit(k)), new int[] {1, 1, 1}, new long[] {a}, new int[] {64});
                MemorySegment m = arena.allocate(4L * 64, 16);
                other.download(m, a, 4L * 64);
                assertEquals(1f, m.getAtIndex(GroupQuantizer.F32, 63), "open " + (i + 1) + ": 0 * 2 + 1");
            }
        }
        assertEquals(1f, read(upload(new float[] {0.5f}), 1)[0] * 2, "the device open all along still works");
    }

    @Test
    void uploadsAndDownloadsLargerThanTheStagingBlocksRoundTrip() {
        long bytes = (9L << 20) + 12; // three staging blocks, the last partly
        MemorySegment src = arena.allocate(bytes, 16), back = arena.allocate(bytes, 16);
        Random r = new Random(1);
        for (long i = 0; i < bytes; i += 8) src.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, Math.min(i, bytes - 8), r.nextLong());
        long a = dev.alloc(bytes, "round trip"), b = dev.alloc(bytes, "copy of it");
        dev.upload(a, src, bytes);
        dev.copy(b, a, bytes);
        dev.download(back, b, bytes);
        assertEquals(-1, src.mismatch(back));
        dev.free(a);
        dev.free(b);
    }

    @Test
    void zeroHandlesUnalignedStartsAndLengths() {
        float[] ones = new float[64];
        java.util.Arrays.fill(ones, 1f);
        long a = upload(ones);
        dev.zero(a + 6, 21); // bytes 6..26: a ragged head, a 4-byte-aligned middle, a ragged tail
        dev.synchronize();
        MemorySegment m = arena.allocate(256, 16);
        dev.download(m, a, 256);
        for (int i = 0; i < 256; i++) {
            byte expect = i >= 6 && i < 27 ? 0 : MemorySegment.ofArray(new float[] {1f}).get(java.lang.foreign.ValueLayout.JAVA_BYTE, i % 4);
            assertEquals(expect, m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i), "byte " + i);
        }
        dev.free(a);
    }

    @Test
    void launchesCopiesAndPinnedCopiesRunInOrder() {
        int n = 1000;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = i;
        long a = upload(new float[n]);
        MemorySegment pin = dev.pinned(4L * n), out = dev.pinned(4L * n);
        MemorySegment.copy(x, 0, pin, GroupQuantizer.F32, 0, n);
        var twice = load(axpb(2f, 0f));
        var plus1 = load(axpb(1f, 1f));
        dev.uploadAsync(a, pin, 4L * n);
        dev.launch(twice, new int[] {16, 1, 1}, new long[] {a}, new int[] {n});
        dev.launch(plus1, new int[] {16, 1, 1}, new long[] {a}, new int[] {n});
        dev.downloadAsync(out, a, 4L * n);
        dev.launch(twice, new int[] {16, 1, 1}, new long[] {a}, new int[] {n}); // after the copy out: not in it
        dev.synchronize();
        for (int i = 0; i < n; i++) assertEquals(2f * i + 1, out.getAtIndex(GroupQuantizer.F32, i), "element " + i);
        assertEquals(2f * (2f * 999 + 1), read(a, n)[999]);
        dev.free(a);
    }

    @Test
    void anAddressInsideABufferReachesThatElement() {
        long a = upload(new float[256]);
        var plus1 = load(axpb(1f, 1f));
        dev.launch(plus1, new int[] {1, 1, 1}, new long[] {a + 4 * 100}, new int[] {10}); // elements 100..109
        float[] v = read(a, 256);
        for (int i = 0; i < 256; i++) assertEquals(i >= 100 && i < 110 ? 1f : 0f, v[i], "element " + i);
        dev.free(a);
    }

    @Test
    void aCaptureReplaysWithEventsAndTiming() {
        int n = 64;
        long a = upload(new float[n]);
        var plus1 = load(axpb(1f, 1f));
        MemorySegment[] slots = {dev.pinned(4), dev.pinned(4), dev.pinned(4)};
        try (GpuDevice.Launch l = dev.prepare(plus1, new long[] {a});
             GpuDevice.Captured step = dev.capture(() -> { l.launch(new int[] {1, 1, 1}, new int[] {n}); l.launch(new int[] {1, 1, 1}, new int[] {n}); })) {
            assertEquals(0f, read(a, n)[5], "capturing runs nothing");
            // three steps queued ahead, each copying its result out and marking an event, as DecodeAhead does
            List<GpuDevice.Event> events = List.of(dev.event(), dev.event(), dev.event());
            for (int s = 0; s < 3; s++) {
                step.replay();
                dev.downloadAsync(slots[s], a + 4 * 5, 4);
                events.get(s).record();
            }
            for (int s = 0; s < 3; s++) {
                events.get(s).synchronize();
                assertEquals(2f * (s + 1), slots[s].get(GroupQuantizer.F32, 0), "step " + s);
            }
            events.forEach(GpuDevice.Event::close);
            float ms = dev.time(() -> { for (int i = 0; i < 10; i++) step.replay(); });
            assertTrue(ms > 0 && ms < 10_000, "timed " + ms + " ms");
            assertEquals(2f * 13, read(a, n)[n - 1]);
        }
        dev.free(a);
    }

    /** Ten thousand replays queued with no wait between them all run, in order. */
    @Test
    void tenThousandReplaysInARowAllRun() {
        long a = upload(new float[64]);
        var plus1 = load(axpb(1f, 1f));
        try (GpuDevice.Launch l = dev.prepare(plus1, new long[] {a});
             GpuDevice.Captured step = dev.capture(() -> l.launch(new int[] {1, 1, 1}, new int[] {64}))) {
            for (int i = 0; i < 10_000; i++) step.replay(); // 80 KB of handles if one submission took them all: more than LWJGL's stack
            dev.synchronize();
            assertEquals(10_000f, read(a, 64)[63]);
        }
        dev.free(a);
    }

    /**
     * A kernel whose SPIR-V is larger than LWJGL's 64 KB thread stack loads and runs (the tuner's
     * unrolled candidates on the H200 failed with "Out of stack space" when the code was copied there):
     * out[i] += 0 + 1 + ... + 2999, one f32 add a step, exact in f32.
     */
    @Test
    void aKernelLargerThanLwjglsStackLoadsAndRuns() {
        Buffer out = new Buffer("out", KType.F32, false);
        K.Body body = new K.Body();
        Expr.Var i = body.let("i", tid(0));
        Expr v = body.let("v", loadF32(out, i));
        for (int s = 0; s < 3000; s++) v = body.let("v" + s, fma(v, f(1f), f(s)));
        Expr last = v;
        body.store(out, i, last);
        Kernel k = Kernel.checked("long_chain", List.of(out), List.of(), List.of(), body.build(), new int[] {64, 1, 1},
                new Expr[] {c(1), c(1), c(1)}, Map.of(), "test: 3000 dependent adds", dev.target().caps());
        String src = dev.target().codegen().emit(k);
        try (ShaderCompiler sc = new ShaderCompiler()) {
            assertTrue(sc.compile(k.name(), src).length > 64 * 1024, "the SPIR-V must outgrow the stack for this test to mean anything");
        }
        float[] x = new float[64];
        for (int j = 0; j < 64; j++) x[j] = j;
        long a = upload(x);
        dev.launch(dev.load(k, src), new int[] {1, 1, 1}, new long[] {a}, new int[0]);
        float[] y = read(a, 64);
        for (int j = 0; j < 64; j++) assertEquals(j + 4498500f, y[j], "element " + j);
        dev.free(a);
    }

    @Test
    void aShaderThatDoesNotCompileNamesTheKernelItsSourceFileAndTheLog() throws Exception {
        Kernel k = axpb(3f, 0f);
        String bad = dev.target().codegen().emit(k).replace("void main() {", "void main() {\n  undeclared_thing = 1;");
        KernelCompileException e = assertThrows(KernelCompileException.class, () -> dev.load(k, bad));
        assertEquals(k.name(), e.kernel());
        assertTrue(e.log().contains("undeclared_thing"), e.log());
        var m = java.util.regex.Pattern.compile("GLSL source written to (\\S+\\.comp)").matcher(e.getMessage());
        assertTrue(m.find(), e.getMessage());
        assertEquals(bad, Files.readString(Path.of(m.group(1))));
    }

    @Test
    void runningOutOfMemoryNamesTheBufferAndTheDeviceLivesOn() {
        try (VulkanDevice small = VulkanTestDevice.open(new VulkanDevice.Options(96L << 20))) {
            long a = small.alloc(32L << 20, "first");
            GpuException e = assertThrows(GpuException.class, () -> small.alloc(80L << 20, "the big one"));
            assertTrue(e.getMessage().contains("the big one") && e.getMessage().contains("out of device memory"), e.getMessage());
            long b = small.alloc(16L << 20, "after");
            small.zero(b, 16L << 20);
            small.free(a);
            small.free(b);
            small.synchronize();
        }
    }
}
