package jmlc.compiler.codegen;

import jmlc.compiler.build.Build;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The instructions the AMD schedules mean are the ones the compiler emits, so a silent scalar
 * fallback fails CI: Llama-2-7B's o_proj GEMV (4096 × 4096, q4f16_1) and its prefill GEMM, each its
 * own self-contained {@code .hip} file, compiled with clang 19 ({@code -nogpulib}) for each of the
 * seed's AMD GPUs and disassembled with llvm-objdump:
 * <ul>
 * <li>the GEMV sums by {@code v_dot2_f32_f16} (at least 16 a row of each chunk), reduces across the
 *     wavefront with cross-lane instructions (ds_bpermute, ds_swizzle or DPP), and has no scalar f16 FMA;
 * <li>with its {@code dot2} knob off it sums by packed {@code v_pk_fma_f16}, again with no scalar f16 FMA;
 * <li>the GEMM runs on the matrix unit ({@code v_wmma_f32_16x16x16_f16} on gfx1100,
 *     {@code v_mfma_f32_16x16x16_f16} on gfx90a and gfx942) or, on RDNA2, on {@code v_dot2_f32_f16}.
 * </ul>
 * Skipped, visibly, without clang-19 and llvm-objdump-19.
 */
class AmdDisassemblyTest {
    static Graph llama7b;

    @BeforeAll
    static void graph() {
        var c = GeneratedKernels.llama2_7b();
        llama7b = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), Set.of(), 512).run(ModelGraph.build(c,
                new ModelGraph.Options(4096, QuantMode.Q4F16_1.kvCacheType(), false))).graph();
    }

    static final String GEMV = "gemvh_q4f16g32z740964096_4096x4096_res", SHAPE = "q4f16g32z740964096_4096x4096_res";
    /** v_dot2_f32_f16 as the disassembler prints it: VOP3P, the VOP2 accumulating forms (dot2c on gfx9/10, dot2acc on gfx11), gfx11's dual issue. */
    static final String DOT2 = "v_(dual_)?dot2(c|acc)?_f32_f16";

    @ParameterizedTest
    @ValueSource(strings = {"gfx1100", "gfx1033", "gfx1030", "gfx90a", "gfx942"})
    void schedulesCompileToTheInstructionsTheyMean(String arch) throws Exception {
        Path clang = AmdCodeObjectTest.tool("clang-19"), objdump = AmdCodeObjectTest.tool("llvm-objdump-19");
        Assumptions.assumeTrue(clang != null && objdump != null, "clang-19 or llvm-objdump-19 not found: the AMD disassembly check is SKIPPED (apt-get install clang-19 lld-19 llvm-19)");
        Target t = Target.parse("rocm:" + arch);
        int wave = t.warpSize(), shuffles = Integer.numberOfTrailingZeros(wave);
        Build dot2 = Build.compile(llama7b, t, Knobs.defaults(), 512);
        Knobs off = Knobs.defaults();
        off.put(new KernelSignature("gemvh", "q4f16g32z740964096_4096x4096", t), Map.of("dot2", 0));
        Build packed = Build.compile(llama7b, t, off, 512);

        String gemv = disassemble(clang, objdump, arch, dot2, GEMV);
        int rows = Integer.parseInt(kernel(dot2, GEMV).replaceAll(".*_w\\d+r(\\d+)v.*", "$1"));
        assertAtLeast(16 * rows, count(gemv, DOT2), "v_dot2_f32_f16 in the dot2 GEMV", arch, gemv);
        assertAtLeast(shuffles, count(gemv, "ds_bpermute_b32|ds_swizzle_b32|_dpp|row_\\w+:"), "cross-lane reduction steps (wave" + wave + ")", arch, gemv);
        assertAtLeast(0, -count(gemv, "v_fmac?_f16\\b"), "no scalar f16 FMA", arch, gemv);

        String pk = disassemble(clang, objdump, arch, packed, GEMV);
        assertAtLeast(16 * rows, count(pk, "v_pk_fma_f16"), "v_pk_fma_f16 in the packed-f16 GEMV", arch, pk);
        assertAtLeast(0, -count(pk, "v_fmac?_f16\\b|" + DOT2), "no scalar f16 FMA, no dot2", arch, pk);

        // the long prompts' GEMM (its large tiles; the short prompts' one has 32 x 32)
        String gemm = disassemble(clang, objdump, arch, dot2, (t.caps().matrix().amd16() ? "gemmx_" : "gemms_") + SHAPE, "_upto");
        String unit = switch (t.caps().matrix()) {
            case WMMA_16X16X16 -> "v_wmma_f32_16x16x16_f16";
            case MFMA_16X16X16 -> "v_mfma_f32_16x16x16_?f16";
            default -> DOT2;
        };
        assertAtLeast(8, count(gemm, unit), unit + " in the prefill GEMM (" + t.caps().matrix() + ")", arch, gemm);
        System.out.printf("%s: GEMV %d v_dot2 / %d v_pk_fma_f16 (dot2 off), %d cross-lane; GEMM %d %s%n", arch,
                count(gemv, DOT2), count(pk, "v_pk_fma_f16"), count(gemv, "ds_bpermute_b32|ds_swizzle_b32|_dpp|row_\\w+:"), count(gemm, unit), unit);
    }

    static String kernel(Build b, String prefix) {
        return kernel(b, prefix, null);
    }

    /** The first kernel named {@code prefix*} whose name does not contain {@code without} (where not null). */
    static String kernel(Build b, String prefix, String without) {
        return b.sources().keySet().stream().filter(n -> n.startsWith(prefix) && (without == null || !n.contains(without))).findFirst()
                .orElseThrow(() -> new AssertionError("no kernel " + prefix + "*" + (without == null ? "" : " without " + without) + " in " + b.sources().keySet()));
    }

    /** The kernel's own source file compiled for {@code arch}, disassembled. */
    static String disassemble(Path clang, Path objdump, String arch, Build b, String prefix) throws Exception {
        return disassemble(clang, objdump, arch, b, prefix, null);
    }

    static String disassemble(Path clang, Path objdump, String arch, Build b, String prefix, String without) throws Exception {
        String name = kernel(b, prefix, without);
        Path dir = Files.createTempDirectory("jmlc-disasm-" + arch);
        Path src = Files.writeString(dir.resolve(name + ".hip"), b.source(name)), obj = dir.resolve(name + ".hsaco");
        GeneratedKernels.run(AmdCodeObjectTest.clang(clang, arch, src, obj), Map.of());
        return GeneratedKernels.run(List.of(objdump.toString(), "-d", obj.toString()), Map.of());
    }

    static int count(String text, String regex) {
        return (int) Pattern.compile("\\s(" + regex + ")").matcher(text).results().count();
    }

    static void assertAtLeast(int want, int found, String what, String arch, String disassembly) {
        assertTrue(found >= want, arch + ": " + what + ": want at least " + want + ", found " + found + "\n"
                + disassembly.lines().filter(l -> l.startsWith("\t")).limit(400).reduce("", (a, b) -> a + b + "\n"));
    }
}
