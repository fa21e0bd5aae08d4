package jmlc.magics.llm;

import jmlc.compiler.kernel.Kernel;
import jmlc.engine.cli.Main;
import jmlc.engine.runtime.gpu.GpuRunner;
import jmlc.engine.runtime.sim.SimulatedDevice;
import jmlc.magics.core.MimeBundle;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a user inspects is what runs: for one model, knobs and target, every kernel's source is the
 * same byte for byte in the files {@code jmlc compile --emit} writes, in what {@code %source} shows,
 * and in what the running model's device compiled (a model loaded onto the simulated device of that
 * target, through the generic GPU backend), for CUDA, HIP and GLSL. {@code --no-code-objects}: the
 * sources only (no .hsaco, no .spv), one file a kernel.
 */
class SameSourcesTest {

    @ParameterizedTest
    @ValueSource(strings = {"cuda:sm_90", "rocm:gfx1030", "rocm:gfx90a", "vulkan"})
    void compileSourceMagicAndTheRunningModelShowTheSameKernels(String target, @TempDir Path dir) throws Exception {
        // jmlc compile
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new ByteArrayInputStream(new byte[0]), new PrintWriter(out), new PrintWriter(err),
                "compile", "synthetic:tiny", "--target", target, "--max-context", "64", "--no-code-objects", "--emit", dir.toString());
        assertEquals(0, code, err.toString());
        String ext = target.startsWith("cuda") ? ".cu" : target.startsWith("vulkan") ? ".comp" : ".hip";
        try (Notebook nb = new Notebook()) {
            // the running model: loaded onto a simulated device of the target
            nb.run("%load synthetic:tiny --device sim:" + target + " --max-context 64");
            GpuRunner runner = (GpuRunner) Llm.model(nb.session).model().runner();
            Map<String, String> ran = ((SimulatedDevice) runner.gpu()).sources();
            List<Kernel> kernels = runner.build().kernels();
            for (Kernel k : kernels) assertTrue(ran.containsKey(k.name()), "the device compiled " + k.name());
            for (String other : ran.keySet())
                assertTrue(other.startsWith("fill_") || kernels.stream().anyMatch(k -> k.name().equals(other)), "the device compiled " + other + ", which is no kernel of the build nor a weight fill");
            try (var files = Files.list(dir.resolve("kernels"))) {
                assertEquals(kernels.size(), files.count(), "jmlc compile wrote one file per kernel");
            }
            int shown = 0;
            for (Kernel k : kernels) {
                String emitted = Files.readString(dir.resolve("kernels").resolve(k.name() + ext));
                assertEquals(ran.get(k.name()), emitted, k.name() + ": jmlc compile's file and the running model's source");
                boolean inProgram = runner.decodeProgram().kernels().contains(k) || runner.prefillProgram().kernels().contains(k);
                if (!inProgram) continue; // the sampling kernels are no program's; %source lists the programs'
                String prefill = runner.decodeProgram().kernels().stream().anyMatch(x -> x.name().equals(k.name())) ? "" : " --prefill";
                MimeBundle b = nb.bundle("%source " + k.name() + prefill);
                String text = b.text();
                assertEquals(ran.get(k.name()), text.substring(text.indexOf('\n') + 1), k.name() + ": %source and the running model's source");
                shown++;
            }
            assertTrue(shown > 5, "checked " + shown + " kernels through %source");
        }
    }
}
