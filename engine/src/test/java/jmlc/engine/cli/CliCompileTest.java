package jmlc.engine.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jmlc compile}: the summary, and what --emit writes (IR per phase, memory plan, kernels, index). */
class CliCompileTest {
    @TempDir
    Path tmp;

    @Test
    void emitsIrMemoryKernelsAndIndexForCuda() throws IOException {
        Path out = tmp.resolve("out");
        CliRun r = CliRun.run("compile", "synthetic:tiny", "--target", "cuda:sm_90", "--emit", out.toString());
        assertEquals(0, r.exit(), r.toString());
        List<String> lines = r.outLines();
        assertEquals("synthetic:tiny: llama, 4 layers, hidden 256; q4f16_1, context 2048; target cuda:sm_90", lines.get(0));
        assertEquals("phases:", lines.get(1));
        assertTrue(lines.get(2).matches(" {2}00 input +\\d+ nodes +[0-9.]+ ms"), lines.get(2));
        assertTrue(lines.get(3).matches(" {2}01 FuseParallelMatmuls +\\d+ nodes +[0-9.]+ ms"), lines.get(3));
        assertTrue(r.out().contains("memory plan: "), r.toString());
        assertTrue(r.out().matches("(?s).*decode program: +\\d+ kernels, \\d+ launches per token.*"), r.toString());
        assertTrue(r.out().matches("(?s).*prefill program: \\d+ kernels, \\d+ launches per step of up to 512 tokens.*"), r.toString());

        try (Stream<Path> ir = Files.list(out.resolve("ir"))) {
            List<String> names = ir.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals("00-input.txt", names.getFirst());
            assertTrue(names.contains("01-FuseParallelMatmuls.txt"), names.toString());
            assertTrue(names.contains("02-QuantizeWeights-q4f16_1.txt"), names.toString());
            // the input, then one file per pass of the pipeline
            assertEquals(1 + jmlc.compiler.pass.Pipeline.standard(jmlc.compiler.quant.QuantMode.Q4F16_1).size(), names.size(), names.toString());
        }
        assertTrue(Files.readString(out.resolve("ir/00-input.txt")).startsWith("graph "));
        assertTrue(Files.readString(out.resolve("memory.txt")).contains("intermediate values in"));

        List<String> index = Files.readAllLines(out.resolve("index.tsv"));
        assertEquals("kernel\trule\tdecode_launches\tprefill_launches\tshort_context_decode_launches\tfile\tsummary", index.getFirst());
        int decodeLaunches = 0, prefillLaunches = 0, shortLaunches = 0;
        for (String row : index.subList(1, index.size())) {
            String[] f = row.split("\t");
            assertEquals(7, f.length, row);
            String source = Files.readString(out.resolve(f[5]));
            assertTrue(source.contains("extern \"C\" __global__ void"), f[5]);
            assertTrue(source.contains(f[0] + "("), "the file holds kernel " + f[0]);
            decodeLaunches += Integer.parseInt(f[2]);
            prefillLaunches += Integer.parseInt(f[3]);
            shortLaunches += Integer.parseInt(f[4]);
            if (f[0].contains("_single")) assertEquals("attention_decode", f[1], "the short-context attention is the decode attention rule's: " + row);
        }
        // a CUDA target has a short-context decode program (10 positions a KV head): the attention without its combine
        assertTrue(r.out().matches("(?s).*below position \\d+: \\d+ kernels, " + shortLaunches + " launches per token.*"), "short-context launches add up:\n" + r.out());
        try (Stream<Path> k = Files.list(out.resolve("kernels"))) {
            assertEquals(index.size() - 1, k.count(), "one file per kernel");
        }
        assertTrue(r.out().contains(decodeLaunches + " launches per token"), "index launches add up:\n" + r.out());
        assertTrue(r.out().contains(prefillLaunches + " launches per step"), "index launches add up:\n" + r.out());
        assertTrue(index.stream().anyMatch(l -> l.contains("\tgemv_f16\t")) && index.stream().anyMatch(l -> l.contains("\tattention_decode\t")), index.toString());
        assertEquals(Files.readString(out.resolve("summary.txt")).strip(), r.out().strip());
        // the knob spaces, by signature with its target, as a tuning database entry names them
        String knobs = Files.readString(out.resolve("knobs.txt"));
        assertTrue(knobs.matches("(?s).*\\ngemvh_q4f16g32z7\\w+@cuda:sm_90\\n  warps += 8 +default 8 +allowed 1, 2, 4, 8, 16, 32 +tried \\[4, 8, 16\\].*"), knobs);
        assertTrue(knobs.contains("attention_decode_") && knobs.contains("fuse_rope") && knobs.contains("gemm_"), knobs);
        assertTrue(knobs.matches("(?s).*\ndecode_short_context_h\\w+@cuda:sm_90\n  positions += \\d+ +default \\d+ .*"), knobs);
    }

    @Test
    void hipTargetsWriteHipFiles() throws IOException {
        Path out = tmp.resolve("hip");
        CliRun r = CliRun.run("compile", "synthetic:tiny", "--target", "hip:gfx90a", "--quant", "q4f32_1", "--no-code-objects", "--emit", out.toString(), "-q");
        assertEquals(0, r.exit(), r.toString());
        try (Stream<Path> k = Files.list(out.resolve("kernels"))) {
            List<Path> files = k.toList();
            assertFalse(files.isEmpty());
            assertTrue(files.stream().allMatch(p -> p.toString().endsWith(".hip")), "--no-code-objects: sources only " + files);
            assertTrue(Files.readString(files.getFirst()).contains("#include <hip/hip_runtime.h>"));
        }
    }

    /**
     * For an AMD target each kernel's .hip source gets its code object where a clang that knows the
     * target is here (CI: Debian's clang-19); without one the summary says so.
     */
    @Test
    void rocmTargetsWriteCodeObjectsWhereAClangIsFound() throws IOException {
        Path out = tmp.resolve("gfx1100");
        CliRun r = CliRun.run("compile", "synthetic:tiny", "--target", "rocm:gfx1100", "--emit", out.toString());
        assertEquals(0, r.exit(), r.toString());
        String wrote = r.outLines().getLast();
        List<String> names;
        try (Stream<Path> k = Files.list(out.resolve("kernels"))) {
            names = k.map(p -> p.getFileName().toString()).sorted().toList();
        }
        List<String> hip = names.stream().filter(n -> n.endsWith(".hip")).toList(), hsaco = names.stream().filter(n -> n.endsWith(".hsaco")).toList();
        assertFalse(hip.isEmpty());
        if (wrote.contains("no .hsaco")) {
            assertTrue(hsaco.isEmpty() && r.err().contains("no .hsaco written: no compiler here takes gfx1100"), r.toString());
            org.junit.jupiter.api.Assumptions.abort("no clang for gfx1100 here: the code objects of jmlc compile are not checked (" + r.err().strip() + ")");
        }
        assertTrue(wrote.matches(".*kernels/ \\(" + hip.size() + " HIP files and " + hip.size() + " \\.hsaco code objects by \\S*clang\\S* --offload-arch=gfx1100\\).*"), wrote);
        assertEquals(hip.stream().map(n -> n.replace(".hip", ".hsaco")).toList(), hsaco);
        for (String h : hsaco) {
            byte[] elf = Files.readAllBytes(out.resolve("kernels").resolve(h));
            assertTrue(elf[0] == 0x7f && elf[1] == 'E' && elf[2] == 'L' && elf[3] == 'F' && ((elf[18] & 0xff) | (elf[19] & 0xff) << 8) == 0xE0, h + " is an AMDGPU code object");
            assertTrue(new String(elf, java.nio.charset.StandardCharsets.ISO_8859_1).contains(h.replace(".hsaco", ".kd")), h + " holds its kernel");
        }
    }

    /** A Vulkan target: one GLSL compute shader a kernel, and beside it its SPIR-V from shaderc (a valid module: magic number 0x07230203). */
    @Test
    void vulkanTargetsWriteGlslAndSpirv() throws IOException {
        Path out = tmp.resolve("vulkan");
        CliRun r = CliRun.run("compile", "synthetic:tiny", "--target", "vulkan", "--emit", out.toString());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("GLSL compute files and their SPIR-V"), r.out());
        try (Stream<Path> k = Files.list(out.resolve("kernels"))) {
            List<Path> comp = k.filter(p -> p.toString().endsWith(".comp")).toList();
            assertFalse(comp.isEmpty());
            for (Path c : comp) {
                assertTrue(Files.readString(c).contains("#version 450"), c.toString());
                byte[] spv = Files.readAllBytes(Path.of(c.toString().replace(".comp", ".spv")));
                assertEquals(0x07230203, java.nio.ByteBuffer.wrap(spv).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0), c + ": SPIR-V magic");
            }
        }
    }

    @Test
    void disabledPassesLeaveTheirPhaseOut() {
        CliRun all = CliRun.run("compile", "synthetic:tiny", "-q");
        CliRun less = CliRun.run("compile", "synthetic:tiny", "--disable-pass", "FuseSiluMul", "--disable-pass", "fuseaddrmsnorm", "-q");
        assertEquals(0, less.exit(), less.toString());
        java.util.regex.Pattern siluMul = java.util.regex.Pattern.compile("\\d\\d FuseSiluMul\\s");
        assertTrue(siluMul.matcher(all.out()).find() && !siluMul.matcher(less.out()).find(), less.toString());
        assertFalse(less.out().contains("FuseAddRmsNorm"), less.toString());
        int last = jmlc.compiler.pass.Pipeline.standard(jmlc.compiler.quant.QuantMode.Q4F16_1).size() - 2; // two passes off
        assertTrue(less.out().contains(String.format("%02d EliminateDeadCode", last - 1)) && less.out().contains(String.format("%02d HalfMatmulInputs", last)),
                less.toString());
    }

    /** --knob sets a knob for one compile: the persistent decode kernels appear; a value a rule refuses is an error; an unknown signature a warning. */
    @Test
    void knobsSetOnTheCommandLineChangeTheKernels() throws IOException {
        Path out = tmp.resolve("persistent");
        CliRun r = CliRun.run("compile", "synthetic:tiny", "--knob", "decode_persistent.kernels=4", "--emit", out.toString());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("persistent kernels that run") && r.out().contains("(decode_persistent.kernels = 4)"), r.out());
        String index = Files.readString(out.resolve("index.tsv"));
        assertTrue(index.lines().anyMatch(l -> l.startsWith("persistent4_") && l.contains("\tdecode_persistent\t")), index);
        assertTrue(Files.readString(out.resolve("knobs.txt")).contains("kernels        = 4 "), "knobs.txt shows the value used");
        CliRun refused = CliRun.run("compile", "synthetic:tiny", "--knob", "decode_persistent.kernels=0", "-q");
        assertEquals(2, refused.exit(), refused.toString());
        assertTrue(refused.err().contains("--knob: kernel decode_persistent@cuda:sm_90: knob kernels=0 is not allowed"), refused.err());
        CliRun malformed = CliRun.run("compile", "synthetic:tiny", "--knob", "kernels=4", "-q");
        assertEquals(2, malformed.exit(), malformed.toString());
        assertTrue(malformed.err().contains("expected SIGNATURE.KNOB=VALUE"), malformed.err());
        CliRun unknown = CliRun.run("compile", "synthetic:tiny", "--target", "vulkan", "--knob", "decode_persistent.kernels=4", "-q");
        assertEquals(0, unknown.exit(), unknown.toString());
        assertTrue(unknown.err().contains("warning: --knob decode_persistent: this build has no kernel of that signature for vulkan:generic"), unknown.err());
    }

    /** The weight prefetch by --knob: its hosts in the summary and the index, the value in knobs.txt, the bulk prefetch in their sources; off on Vulkan. */
    @Test
    void theWeightPrefetchKnobMakesTheAttentionAskForTheNextWeights() throws IOException {
        Path out = tmp.resolve("prefetch");
        CliRun r = CliRun.run("compile", "synthetic:tiny", "--knob", "decode_weight_prefetch.mib=8", "--emit", out.toString());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("ask the L2 for the next GEMVs' weights while they run") && r.out().contains("(decode_weight_prefetch.mib = 8)"), r.out());
        String index = Files.readString(out.resolve("index.tsv"));
        String host = index.lines().filter(l -> l.contains("\tdecode_weight_prefetch\t") && l.startsWith("attention_decode")).findFirst().orElseThrow(() -> new AssertionError(index));
        String file = host.split("\t")[5];
        assertTrue(Files.readString(out.resolve(file)).contains("cp.async.bulk.prefetch.L2.global"), file);
        assertTrue(Files.readString(out.resolve("knobs.txt")).contains("mib            = 8 "), "knobs.txt shows the value used");
        CliRun vulkan = CliRun.run("compile", "synthetic:tiny", "--target", "vulkan", "--knob", "decode_weight_prefetch.mib=8", "-q");
        assertEquals(0, vulkan.exit(), vulkan.toString());
        assertTrue(vulkan.err().contains("warning: --knob decode_weight_prefetch: this build has no kernel of that signature for vulkan:generic"), vulkan.err());
    }

    @Test
    void compilesAModelDirectoryFromItsConfigAlone() {
        Path dir = tmp.resolve("model");
        jmlc.engine.format.hf.HfModelWriter.write(dir, jmlc.engine.format.TinyModels.random(
                jmlc.engine.format.TinyModels.config(jmlc.compiler.model.Architecture.QWEN2), 1), jmlc.engine.format.tensor.TensorDType.F16, 1);
        CliRun r = CliRun.run("compile", dir.toString(), "-q");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.outLines().getFirst().contains("qwen2, 2 layers, hidden 64; q4f16_1, context 128; target cuda:sm_90"), r.toString());
    }

    /** --emit into the folder of an earlier compile replaces its output: no kernel of the earlier model stays. */
    @Test
    void emittingAgainReplacesTheEarlierOutput() throws IOException {
        Path out = tmp.resolve("again");
        assertEquals(0, CliRun.run("compile", "synthetic:tiny", "--quant", "q4f16_1", "--emit", out.toString(), "-q").exit());
        long before = countKernels(out);
        CliRun r = CliRun.run("compile", "synthetic:tiny", "--quant", "q0f32", "--emit", out.toString());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.err().contains("replacing an earlier compile's output"), r.toString());
        List<String> index = Files.readAllLines(out.resolve("index.tsv"));
        assertEquals(index.size() - 1, countKernels(out), "only the new compile's kernels (the first made " + before + ")");
        try (Stream<Path> k = Files.list(out.resolve("kernels"))) {
            assertTrue(k.noneMatch(p -> p.getFileName().toString().contains("q4")), "no q4 kernel of the first compile stays");
        }
    }

    @Test
    void emitRefusesAFolderOfOtherFiles() throws IOException {
        Path mine = Files.createDirectories(tmp.resolve("mine"));
        Files.writeString(mine.resolve("notes.txt"), "keep me");
        CliRun r = CliRun.run("compile", "synthetic:tiny", "--emit", mine.toString());
        assertEquals(Errors.USAGE, r.exit(), r.toString());
        CliErrorsTest.assertOneErrorLine(r, "--emit " + mine + ": the folder is not empty and holds no earlier compile's output only (also notes.txt); choose a new or empty folder");
        assertEquals("keep me", Files.readString(mine.resolve("notes.txt")));
        assertFalse(Files.exists(mine.resolve("kernels")));
    }

    private static long countKernels(Path out) throws IOException {
        try (Stream<Path> k = Files.list(out.resolve("kernels"))) {
            return k.count();
        }
    }
}
