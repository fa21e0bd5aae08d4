package jmlc.compiler.codegen;

import jmlc.compiler.build.Build;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Arg;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A kernel launched as a programmatic dependent (sm_90: it waits with griddepcontrol.wait) starts while the
 * kernels before it still write its inputs. Only its unchanging inputs (weights, scales, constants) may be
 * declared {@code const __restrict__}: NVCC/NVRTC load such a pointer through the non-coherent path as
 * invariant, free to move, and on an H100 the captured decode step computed NaN with every input so declared.
 */
class DependentKernelInputsTest {

    private static Program decode(Target t) {
        return Build.compile(GeneratedKernels.graph(new GeneratedKernels.Case(GeneratedKernels.llama2_7b(), QuantMode.Q4F16_1, Set.of())), t, Knobs.defaults(), 512).decode();
    }

    private static boolean unchanging(Arg a) {
        return a instanceof Arg.WeightData || a instanceof Arg.WeightScales || a instanceof Arg.Constant;
    }

    /** The kernel's parameter list: {@code name -> its declaration}. */
    private static Map<String, String> parameters(String source, String kernel) {
        Matcher m = Pattern.compile(Pattern.quote(kernel) + "\\(([^)]*)\\)").matcher(source);
        assertTrue(m.find(), "the signature of " + kernel);
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String p : m.group(1).split(",\\s*")) out.put(p.substring(p.lastIndexOf(' ') + 1), p);
        return out;
    }

    @Test
    void aDependentKernelDeclaresOnlyItsUnchangingInputsRestrict() {
        CudaEmitter emitter = new CudaEmitter();
        int dependents = 0, activations = 0, weights = 0;
        for (KernelCall call : decode(Target.parse("cuda:sm_90")).calls()) {
            assertTrue(call.kernel().waitsForGridDependency(), call.kernel().name() + " waits for the kernels before it on sm_90");
            dependents++;
            Map<String, String> params = parameters(emitter.emit(call.kernel()), call.kernel().name());
            for (int j = 0; j < call.args().size(); j++) {
                Buffer b = call.kernel().buffers().get(j);
                Arg a = call.args().get(j);
                if (!b.readOnly()) continue;
                assertEquals(unchanging(a), b.unchanging(), call.kernel().name() + "." + b.name() + " bound to " + a.getClass().getSimpleName());
                String decl = params.get(b.name());
                if (unchanging(a)) {
                    weights++;
                    assertTrue(decl.contains("__restrict__"), call.kernel().name() + ": weight " + decl);
                } else {
                    activations++;
                    assertFalse(decl.contains("__restrict__"), call.kernel().name() + ": an input the kernels before it write, declared " + decl);
                }
            }
        }
        assertTrue(dependents > 5 && activations > 5 && weights > 5, dependents + " kernels, " + activations + " activation inputs, " + weights + " weight inputs");
    }

    @Test
    void withoutDependentLaunchesEveryReadOnlyInputStaysRestrict() {
        CudaEmitter emitter = new CudaEmitter();
        for (KernelCall call : decode(Target.parse("cuda:sm_80")).calls()) {
            assertFalse(call.kernel().waitsForGridDependency(), call.kernel().name());
            Map<String, String> params = parameters(emitter.emit(call.kernel()), call.kernel().name());
            for (Buffer b : call.kernel().buffers())
                if (b.readOnly()) assertTrue(params.get(b.name()).contains("__restrict__"), call.kernel().name() + ": " + params.get(b.name()));
        }
    }

    /**
     * In the PTX of the decode's GEMVs (their weights and scales come through cp.async), what follows the wait
     * loads nothing through the non-coherent path: x and the residual are ordinary loads.
     */
    @Test
    void theGemvsLoadTheirActivationsCoherentlyAfterTheWait() throws Exception {
        Path nvcc = GeneratedKernels.tool("nvcc", "/usr/local/cuda/bin", "/usr/local/bin", "/usr/bin");
        Assumptions.assumeTrue(nvcc != null, "nvcc not found: the PTX check of dependent kernels' loads is SKIPPED (CI machines have nvcc 13.0)");
        CudaEmitter emitter = new CudaEmitter();
        Path dir = Files.createTempDirectory("jmlc-ptx");
        List<String> checked = new ArrayList<>();
        for (var k : decode(Target.parse("cuda:sm_90")).kernels()) {
            if (!k.name().startsWith("gemvh") || !k.name().contains("ring")) continue;
            Path cu = dir.resolve(k.name() + ".cu"), ptx = dir.resolve(k.name() + ".ptx");
            Files.writeString(cu, emitter.emit(k));
            GeneratedKernels.run(List.of(nvcc.toString(), "-ptx", "-arch=sm_90", "-o", ptx.toString(), cu.toString()), Map.of());
            String code = Files.readString(ptx);
            int wait = code.indexOf("griddepcontrol.wait;");
            assertTrue(wait > 0, k.name() + " waits");
            String after = code.substring(wait);
            assertFalse(after.contains("ld.global.nc"), k.name() + " loads through the non-coherent path after the wait:\n"
                    + after.lines().filter(l -> l.contains("ld.global.nc")).limit(4).toList());
            assertTrue(after.contains("ld.global."), k.name() + " loads x after the wait");
            checked.add(k.name());
        }
        assertTrue(checked.size() >= 4, "the ring GEMVs: " + checked);
    }
}
