package jmlc.compiler.codegen;

import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.schedule.SamplingKernels;
import jmlc.compiler.schedule.Scheduler;
import jmlc.compiler.schedule.Target;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every CUDA kernel the compiler generates for real model shapes and every quantization compiles
 * with {@code nvcc -cubin -arch=sm_90} (CI has nvcc and no GPU). Skipped, visibly, where nvcc is missing.
 */
class NvccCompileTest {

    static ModelConfig llama2_7b() {
        return new ModelConfig(Architecture.LLAMA, 32000, 4096, 11008, 32, 32, 32, 128, 1e-5, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 4096, false, false);
    }

    static ModelConfig llama3_8b() {
        return new ModelConfig(Architecture.LLAMA, 128256, 4096, 14336, 32, 32, 8, 128, 1e-5, 500000, new RopeSpec.Scaling.Llama3(8, 1, 4, 8192), RopeSpec.Style.HALF, 8192, false, false);
    }

    static ModelConfig qwen2() {
        return new ModelConfig(Architecture.QWEN2, 151936, 896, 4864, 2, 14, 2, 64, 1e-6, 1000000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 4096, true, true);
    }

    /** Distinct kernels (by name) of the decode and prefill programs of these models and modes. */
    static Map<String, Kernel> kernels(Target t) {
        Map<String, Kernel> all = new LinkedHashMap<>();
        record Case(ModelConfig c, QuantMode q, Set<String> disabled) {}
        List<Case> cases = List.of(
                new Case(llama2_7b(), QuantMode.Q4F16_1, Set.of()), new Case(llama2_7b(), QuantMode.Q4F32_1, Set.of()),
                new Case(llama2_7b(), QuantMode.Q8F16, Set.of()), new Case(llama2_7b(), QuantMode.Q0F16, Set.of()),
                new Case(llama2_7b(), QuantMode.Q0F32, Set.of()), new Case(llama2_7b(), QuantMode.Q4_0, Set.of()),
                new Case(llama3_8b(), QuantMode.Q4F16_1, Set.of()), new Case(qwen2(), QuantMode.Q4F16_1, Set.of()),
                // Llama with attention_bias: biased q/k/v and a biased o GEMV with the residual epilogue
                new Case(llama2_7b().withAttentionBias(true), QuantMode.Q4F16_1, Set.of()),
                // unfused: the elementwise kernels every pass removes
                new Case(llama2_7b(), QuantMode.Q4F16_1, Set.of("FuseDequantMatmul", "FuseRopeKvAppend", "FuseSiluMul", "FuseAddRmsNorm")));
        for (Case k : cases) {
            var g = new Pipeline(Pipeline.standard(k.q()), k.disabled(), 512).run(ModelGraph.build(k.c().withMaxPositions(Math.min(4096, k.c().maxPositions())),
                    new ModelGraph.Options(Math.min(4096, k.c().maxPositions()), k.q().kvCacheType(), false))).graph();
            for (boolean decode : new boolean[] {true, false}) {
                Program p = Scheduler.schedule(g, t, decode, 512, Knobs.defaults());
                for (Kernel kk : p.kernels()) all.putIfAbsent(kk.name(), kk);
            }
        }
        for (int v : new int[] {32000, 128256}) {
            all.putIfAbsent(SamplingKernels.argmax(v, 32).name(), SamplingKernels.argmax(v, 32));
            all.putIfAbsent(SamplingKernels.sample(v, 32).name(), SamplingKernels.sample(v, 32));
        }
        return all;
    }

    static Path nvcc() {
        for (String dir : List.of("/usr/local/cuda/bin", "/usr/local/bin", "/usr/bin")) {
            Path p = Path.of(dir, "nvcc");
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }

    @Test
    void everyGeneratedCudaKernelCompilesForSm90() throws Exception {
        Path nvcc = nvcc();
        Assumptions.assumeTrue(nvcc != null, "nvcc not found: the CUDA compile check is SKIPPED (CI machines have nvcc 13.0)");
        Map<String, Kernel> ks = kernels(Target.parse("cuda:sm_90"));
        Path dir = Files.createTempDirectory("jmlc-nvcc");
        CEmitter emitter = new CEmitter(Dialect.CUDA);
        List<Path> files = new ArrayList<>();
        for (Kernel k : ks.values()) {
            Path f = dir.resolve(k.name() + ".cu");
            Files.writeString(f, emitter.emit(k));
            files.add(f);
        }
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        files.parallelStream().forEach(f -> {
            try {
                Process p = new ProcessBuilder(nvcc.toString(), "-cubin", "-arch=sm_90", "-o", f.toString().replace(".cu", ".cubin"), f.toString())
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes());
                if (p.waitFor() != 0) failures.add(f.getFileName() + ":\n" + out);
            } catch (IOException | InterruptedException e) {
                failures.add(f.getFileName() + ": " + e);
            }
        });
        assertTrue(failures.isEmpty(), failures.size() + " of " + files.size() + " kernels failed to compile:\n" + String.join("\n", failures));
        System.out.println("nvcc -cubin -arch=sm_90: " + files.size() + " generated kernels compiled");
    }
}
