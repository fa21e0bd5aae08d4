package jmlc.engine.runtime.rocm;

import jmlc.compiler.build.Build;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.target.Target;
import jmlc.engine.api.Backends;
import jmlc.engine.runtime.gpu.GpuBackend;
import jmlc.engine.runtime.gpu.KernelCompileException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The HIP runtime's FFM bindings against a real libamdhip64, for what needs no GPU: Debian 12's
 * (ROCm 5.2; {@code .ci/run} installs it with hipcc). The library loads and binds every call,
 * reports its version, and finding no GPU is "not available" with the reason, never an error; a
 * missing or foreign library is the same. Its hiprtc compiles generated kernels for gfx90a and
 * gfx1030 into AMDGPU code objects through the bindings, cached on disk, and a kernel that does
 * not compile names itself and carries hiprtc's log. (Debian's hiprtc aborts the process for
 * gfx1100: its device libraries stop at gfx1030.) Skipped, visibly, without libamdhip64.
 */
class HipRuntimeTest {

    static Hip debians() {
        try {
            return Hip.load(Map.of());
        } catch (Hip.Unavailable e) {
            Assumptions.abort("no libamdhip64 here, the HIP binding checks are SKIPPED (apt-get install libamdhip64-dev): " + e.getMessage());
            return null;
        }
    }

    @Test
    void debiansLibamdhip64LoadsAndFindingNoGpuIsNotAnError() {
        Hip hip = debians();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT), n = a.allocate(JAVA_INT);
            assertEquals(Hip.SUCCESS, hip.runtimeGetVersion(v));
            String version = Hip.version(v.get(JAVA_INT, 0));
            assertTrue(version.matches("[5-9]\\.\\d+\\.\\d+"), version);
            int st = hip.getDeviceCount(n);
            Assumptions.assumeTrue(st == Hip.ERROR_NO_DEVICE || n.get(JAVA_INT, 0) == 0, "this machine has a GPU HIP sees: the no-GPU checks are SKIPPED");
            if (st != Hip.SUCCESS) assertTrue(hip.describe(st).startsWith("hipErrorNoDevice (100)"), hip.describe(st));
            var e = assertThrows(jmlc.engine.runtime.gpu.GpuException.class, () -> hip.check(hip.setDevice(7), "hipSetDevice(7)"));
            assertTrue(e.getMessage().startsWith("hipSetDevice(7) failed: hipError"), e.getMessage());
            assertEquals(hip.props, v.get(JAVA_INT, 0) >= 60_000_000 ? Hip.PropLayout.R0600 : Hip.PropLayout.R0000, "the hipDeviceProp_t layout of HIP " + version);
            assertTrue(hip.rtcMissing.isEmpty(), hip.rtcMissing);
        }
        RocmPlatform p = new RocmPlatform(Map.of());
        assertTrue(p.detect().isEmpty());
        assertTrue(p.unavailable().contains("reports no GPU") && p.unavailable().contains(hip.library), p.unavailable());
    }

    @Test
    void aMissingOrForeignLibraryIsNotAvailableWithTheReason() {
        RocmPlatform none = new RocmPlatform(Map.of("JMLC_HIP_LIBRARY", "/nonexistent/libamdhip64.so"));
        assertTrue(none.detect().isEmpty());
        assertTrue(none.unavailable().contains("JMLC_HIP_LIBRARY=/nonexistent/libamdhip64.so") && none.unavailable().contains("no such file"), none.unavailable());
        RocmPlatform foreign = new RocmPlatform(Map.of("JMLC_HIP_LIBRARY", "libm.so.6"));
        assertTrue(foreign.detect().isEmpty());
        assertTrue(foreign.unavailable().contains("libm.so.6 lacks hipRuntimeGetVersion"), foreign.unavailable());
        var e = assertThrows(IllegalArgumentException.class, () -> none.open(new jmlc.engine.runtime.DeviceInfo("rocm:0", "rocm", "x", Map.of()), null));
        assertTrue(e.getMessage().contains("no ROCm device rocm:0"), e.getMessage());
    }

    @Test
    void rocmIsDetectedFirst() {
        var first = Backends.all().getFirst();
        assertTrue(first instanceof GpuBackend g && g.platform() instanceof RocmPlatform, first.name());
    }

    /** A tiny model's kernels of every kind for a target. */
    static Build build(String target) {
        ModelConfig c = new ModelConfig(Architecture.LLAMA, 256, 128, 256, 1, 4, 2, 32, 1e-5, 10000, new jmlc.compiler.ir.RopeSpec.Scaling.None(),
                jmlc.compiler.ir.RopeSpec.Style.HALF, 64, false, false);
        var g = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), Set.of(), 16).run(ModelGraph.build(c, new ModelGraph.Options(64, QuantMode.Q4F16_1.kvCacheType(), false))).graph();
        return Build.compile(g, Target.parse(target), Knobs.defaults(), 16);
    }

    @ParameterizedTest
    @ValueSource(strings = {"rocm:gfx90a", "rocm:gfx1030"})
    void hiprtcCompilesGeneratedKernelsIntoCachedCodeObjects(String target, @TempDir Path cache) throws Exception {
        Hip hip = debians();
        Build b = build(target);
        Hiprtc rtc = new Hiprtc(hip, b.target(), "test", cache);
        for (String kind : new String[] {"gemvh_", "gemmx_", "gemms_", "attention_decode_"}) {
            var name = b.sources().keySet().stream().filter(k -> k.startsWith(kind)).findFirst();
            if (name.isEmpty()) continue; // gfx90a's GEMM is gemmx (MFMA), gfx1030's gemms (dot2)
            byte[] code = rtc.compile(name.get(), b.source(name.get()));
            assertTrue(code.length > 64 && code[0] == 0x7f && code[1] == 'E' && code[2] == 'L' && code[3] == 'F', name.get() + ": an ELF code object");
            assertEquals(0xE0, (code[18] & 0xff) | (code[19] & 0xff) << 8, name.get() + ": e_machine EM_AMDGPU");
            assertTrue(new String(code, java.nio.charset.StandardCharsets.ISO_8859_1).contains(name.get() + ".kd"), name.get() + "'s kernel descriptor");
            try (var cached = Files.list(rtc.cacheDir())) {
                assertTrue(cached.anyMatch(f -> f.getFileName().toString().startsWith(name.get() + "-")), "cached under " + rtc.cacheDir());
            }
            assertArrayEquals(code, rtc.compile(name.get(), b.source(name.get())), "the second compile reads the cache");
        }
    }

    @Test
    void aKernelThatDoesNotCompileNamesItselfAndTheLog(@TempDir Path cache) {
        Hip hip = debians();
        Hiprtc rtc = new Hiprtc(hip, Target.parse("rocm:gfx1030"), "test", cache);
        var e = assertThrows(KernelCompileException.class, () -> rtc.compile("broken_kernel", "extern \"C\" __global__ void broken_kernel(float* x) { x[0] = undeclared; }"));
        assertEquals("broken_kernel", e.kernel());
        assertTrue(e.getMessage().contains("hiprtc") && e.getMessage().contains("gfx1030") && e.log().contains("undeclared"), e.getMessage());
    }
}
