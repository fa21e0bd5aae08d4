package jmlc.magics.llm;

import jmlc.magics.core.MagicException;
import jmlc.magics.core.MimeBundle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import jmlc.engine.runtime.DeviceInfo;

/** %ir, %kernels and %source on synthetic:tiny. */
class CompilerMagicsTest {

    final Notebook nb = new Notebook();

    @BeforeEach
    void load() throws Exception {
        nb.run("%load synthetic:tiny --max-context 256");
    }

    @AfterEach
    void close() {
        nb.close();
    }

    /** With the matmul fusions off, FuseAddRmsNorm pairs the residual adds with the norms after them. */
    static final String WITHOUT_MATMUL_FUSIONS = "--disable-pass FuseSiluMulEpilogue --disable-pass FuseMatmulPrologue --disable-pass FuseMatmulResidual";

    @Test
    void irListsThePhasesWithWhatEachChanged() throws Exception {
        MimeBundle table = nb.bundle("%ir");
        String text = table.text();
        for (String phase : new String[]{"input", "FuseParallelMatmuls", "QuantizeWeights(q4f16_1)", "FuseDequantMatmul",
                "FuseRopeKvAppend", "FuseSiluMul", "FuseMatmulPrologue", "FuseMatmulResidual", "FuseAddRmsNorm", "EliminateDeadCode", "HalfMatmulInputs"}) {
            assertTrue(text.contains(phase), phase + " in " + text);
        }
        assertTrue(text.lines().anyMatch(l -> l.startsWith("input ") && l.contains("rms_norm 9") && l.contains("add 8")), text);
        String residual = text.lines().filter(l -> l.startsWith("FuseMatmulResidual")).findFirst().orElseThrow();
        assertTrue(residual.contains("-add 8") && residual.contains("(-8)"), residual);
        assertTrue(((String) table.data().get(MimeBundle.HTML)).contains("<th style=\"text-align:left\">op counts (change)</th>"));

        nb.run("%reload " + WITHOUT_MATMUL_FUSIONS);
        String fuse = nb.bundle("%ir").text().lines().filter(l -> l.startsWith("FuseAddRmsNorm")).findFirst().orElseThrow();
        assertTrue(fuse.contains("+add_rms_norm 7") && fuse.contains("-rms_norm 7") && fuse.contains("-add 7"), fuse);
    }

    @Test
    void irPhaseShowsTheGraphBeforeAndAfterFusion() throws Exception {
        String input = nb.bundle("%ir input").text();
        String last = nb.bundle("%ir final").text();
        assertTrue(input.startsWith("// after input: 76 nodes\ngraph "), input.lines().findFirst().orElse(""));
        assertTrue(input.contains(" = rms_norm(") && input.contains(" = add(") && !input.contains("matmul_fused"), "before fusion");
        assertTrue(last.contains("prologue=rms_norm") && last.contains("epilogue=+residual"), "after fusion");
        assertFalse(last.contains(" = rms_norm(") || last.contains(" = add("), "nothing left unfused");
        assertEquals(nb.bundle("%ir HalfMatmulInputs").text(), last);
        // q4f16_1: the attention output (o's input) and silu·mul's (down's) stored as f16, nothing else
        assertTrue(last.lines().anyMatch(l -> l.contains(":f16[seq, ") && l.contains(" = attention(")), "attention writes f16");
        assertFalse(nb.bundle("%ir EliminateDeadCode").text().contains(":f16[seq, "), "f32 before HalfMatmulInputs");
        assertEquals(nb.bundle("%ir fuseaddrms").text(), nb.bundle("%ir FuseAddRmsNorm").text(), "a prefix, any case");
        String grep = nb.bundle("%ir final --grep epilogue").text();
        // per layer of synthetic:tiny's 4: o and down add the residual, gate_up computes silu·mul
        assertEquals(1 + 12, grep.lines().count(), grep);
        String before = nb.bundle("%ir input --grep 'add\\(|norm\\('").text();
        assertEquals(1 + 8 + 9, before.lines().count(), "8 adds and 9 norms: " + before);
        assertTrue(before.startsWith("// after input: 76 nodes, the lines matching 'add\\(|norm\\('\n"), before);
        assertTrue(assertThrows(MagicException.class, () -> nb.run("%ir final --grep 'add('")).getMessage()
                .startsWith("%ir: --grep takes a regular expression: Unclosed group"));
        assertTrue(((String) nb.bundle("%ir final").data().get(MimeBundle.HTML)).contains("<pre>graph "));

        assertTrue(assertThrows(MagicException.class, () -> nb.run("%ir Fusion")).getMessage()
                .startsWith("%ir: no phase named 'Fusion': phases are input, FuseParallelMatmuls, "));
        assertTrue(assertThrows(MagicException.class, () -> nb.run("%ir --grep x")).getMessage().startsWith("%ir: --grep filters"));
    }

    @Test
    void disabledPassesLeaveTheirOpsInTheGraph() throws Exception {
        nb.run("%reload " + WITHOUT_MATMUL_FUSIONS);
        String pipeline = nb.bundle("%ir").text();
        assertFalse(pipeline.contains("FuseMatmulPrologue") || pipeline.contains("FuseMatmulResidual"), pipeline);
        String last = nb.bundle("%ir final").text();
        assertTrue(last.contains(" = add_rms_norm(") && !last.contains("matmul_fused"), "FuseAddRmsNorm takes over");
        nb.run("%reload --disable-pass FuseAddRmsNorm");
        assertEquals(java.util.Set.of("FuseAddRmsNorm"), Llm.model(nb.session).options().disabledPasses(), "the list is replaced");
        nb.run("%reload " + WITHOUT_MATMUL_FUSIONS + " --disable-pass FuseAddRmsNorm");
        last = nb.bundle("%ir final").text();
        assertFalse(last.contains("add_rms_norm"), "without the pass");
        assertTrue(last.contains(" = rms_norm(") && last.contains(" = add("));
    }

    static int launches(String kernels) {
        var m = java.util.regex.Pattern.compile("(\\d+) launches per step").matcher(kernels);
        assertTrue(m.find(), kernels);
        return Integer.parseInt(m.group(1));
    }

    /** --knob sets a knob for the compile the magic shows: the persistent decode kernels; a refused value is the magic's error, and the session goes on. */
    @Test
    void knobsSetInTheMagicChangeTheKernelsShown() throws Exception {
        String text = nb.bundle("%kernels --knob decode_persistent.kernels=4").text();
        assertTrue(text.lines().anyMatch(l -> l.contains(" persistent4_") && l.contains("decode_persistent")), text);
        String src = nb.bundle("%source persistent4 --knob decode_persistent.kernels=4").text();
        assertTrue(src.contains("grid barrier") && src.contains("atomicAdd(grid_barrier"), src);
        var e = assertThrows(MagicException.class, () -> nb.run("%kernels --knob decode_persistent.kernels=100"));
        assertTrue(e.getMessage().startsWith("%kernels: --knob: kernel decode_persistent@cuda:sm_90: knob kernels=100 is not allowed"), e.getMessage());
        assertFalse(nb.bundle("%kernels").text().contains("persistent"), "without the knob: kernel by kernel");
    }

    @Test
    void kernelsTableForTheDefaultAndOtherTargets() throws Exception {
        MimeBundle cuda = nb.bundle("%kernels");
        String text = cuda.text();
        assertTrue(text.startsWith("decode (one token) program of synthetic:tiny q4f16_1 for cuda:sm_90: "), text);
        assertTrue(text.contains("_res_") && text.contains(" gemv") && text.matches("(?s).*[a-z_]+=\\d+.*"), "kernels, rules and knobs: " + text);
        String html = (String) cuda.data().get(MimeBundle.HTML);
        for (String h : new String[]{"kernel", "rule", "launches", "threads", "shared bytes", "knobs"})
            assertTrue(html.contains("<th style=\"text-align:left\">" + h + "</th>"), h);
        String hip = nb.bundle("%kernels --target hip:gfx90a").text();
        assertTrue(hip.contains(" for rocm:gfx90a: "), "hip: is another spelling of rocm: " + hip);
        String prefill = nb.bundle("%kernels --prefill").text();
        assertTrue(prefill.startsWith("prefill (up to 256 tokens) program"), prefill);
        assertTrue(assertThrows(MagicException.class, () -> nb.run("%kernels --target opencl:x")).getMessage()
                .startsWith("%kernels: unknown GPU platform 'opencl'"));
        assertTrue(assertThrows(MagicException.class, () -> nb.run("%kernels --target cuda:90")).getMessage()
                .startsWith("%kernels: CUDA arch '90' should look like sm_90"));

        int fused = launches(text);
        nb.run("%reload " + WITHOUT_MATMUL_FUSIONS + " --disable-pass FuseAddRmsNorm");
        String unfused = nb.bundle("%kernels").text();
        assertTrue(launches(unfused) > fused, "fusion saves launches: " + fused + " vs " + unfused);
        assertFalse(unfused.contains("_res_"));
    }

    @Test
    void sourceShowsOneKernelForCudaHipAndVulkan() throws Exception {
        MimeBundle cuda = nb.bundle("%source 256x256_res");
        assertTrue(cuda.text().startsWith("// gemv"), cuda.text());
        assertTrue(cuda.text().contains(".cu (cuda:sm_90, rule gemv"), cuda.text());
        assertTrue(cuda.text().contains("extern \"C\" __global__ void __launch_bounds__(") && cuda.text().contains("residual"), cuda.text());
        String html = (String) cuda.data().get(MimeBundle.HTML);
        assertTrue(html.contains("<pre class=\"jmlc-source\"") && html.contains(">__global__</span>"), html);
        assertTrue(html.contains("&quot;C&quot;"), "escaped");

        MimeBundle hip = nb.bundle("%source 256x256_res --target hip:gfx90a");
        assertTrue(hip.text().contains("#include <hip/hip_runtime.h>") && hip.text().contains("__global__"), hip.text());
        assertTrue(((String) hip.data().get(MimeBundle.HTML)).contains("#include &lt;hip/hip_runtime.h&gt;"));

        MimeBundle glsl = nb.bundle("%source 256x256_res --target vulkan");
        assertTrue(glsl.text().contains(".comp (vulkan:generic, rule gemv") && glsl.text().contains("#version 450")
                && glsl.text().contains("layout(push_constant, std430) uniform Args"), glsl.text());
        assertTrue(nb.bundle("%kernels --target vulkan:sg64").text().contains(" for vulkan:sg64: "));

        assertEquals(nb.bundle("%source 1").text(), nb.bundle("%source #1").text());
        assertTrue(nb.bundle("%source 1").text().startsWith("// embed_"));
        assertTrue(assertThrows(MagicException.class, () -> nb.run("%source _res_")).getMessage()
                .startsWith("%source: '_res_' names 2 kernels: "));
        assertTrue(assertThrows(MagicException.class, () -> nb.run("%source nothing_like_it")).getMessage()
                .startsWith("%source: no kernel named 'nothing_like_it'; kernels: 1 embed_"));
        assertTrue(assertThrows(MagicException.class, () -> nb.run("%source 99")).getMessage()
                .startsWith("%source: no kernel number 99: the program has "));
    }

    @Test
    void aGpuDeviceNamesItsTarget() {
        assertEquals(Optional.of("cuda:sm_90"), Programs.deviceTarget(new DeviceInfo("cuda:0", "cuda", "NVIDIA H100", Map.of("compute capability", "9.0"))));
        assertEquals(Optional.of("cuda:sm_80"), Programs.deviceTarget(new DeviceInfo("cuda:0", "cuda", "A100", Map.of("arch", "sm_80"))));
        assertEquals(Optional.of("cuda:sm_90"), Programs.deviceTarget(new DeviceInfo("cuda:1", "cuda", "?", Map.of())));
        assertEquals(Optional.of("rocm:gfx942"), Programs.deviceTarget(new DeviceInfo("rocm:0", "rocm", "MI300X", Map.of("arch", "gfx942:sramecc+:xnack-"))));
        assertEquals(Optional.empty(), Programs.deviceTarget(new DeviceInfo("cpu", "cpu", "x", Map.of())));
        assertEquals("cuda:sm_80", Programs.target(null, new DeviceInfo("cuda:0", "cuda", "A100", Map.of("arch", "sm_80")), "kernels").toString());
        assertEquals("rocm:gfx1030", Programs.target("hip:gfx1030", new DeviceInfo("cpu", "cpu", "x", Map.of()), "kernels").toString());
        var h100 = Programs.target(null, new DeviceInfo("cuda:0", "cuda", "H100 PCIe", Map.of("compute capability", "9.0", "multiprocessors", "114")), "kernels");
        assertEquals(114, h100.multiprocessors(), "the device's own SM count sizes grids as its runner does");
        assertEquals(132, Programs.target("cuda:sm_90", new DeviceInfo("cuda:0", "cuda", "H100 PCIe", Map.of("multiprocessors", "114")), "kernels")
                .multiprocessors(), "a named target is the named target");
    }
}
