package jmlc.compiler.codegen;

import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every CUDA kernel the compiler generates for real model shapes and every quantization compiles
 * with {@code nvcc -cubin -arch=sm_90} (CI has nvcc and no GPU), also fused into persistent kernels and with the
 * GEMVs' ring of asynchronous copies, with x in bytes (dot4), and the decode attention as thread block clusters. Skipped, visibly, where nvcc is missing.
 */
class NvccCompileTest {

    @Test
    void everyGeneratedCudaKernelCompilesForSm90() throws Exception {
        Path nvcc = GeneratedKernels.tool("nvcc", "/usr/local/cuda/bin", "/usr/local/bin", "/usr/bin");
        Assumptions.assumeTrue(nvcc != null, "nvcc not found: the CUDA compile check is SKIPPED (CI machines have nvcc 13.0)");
        Target t = Target.parse("cuda:sm_90");
        Map<String, String> ks = new java.util.LinkedHashMap<>(GeneratedKernels.sources(t));
        // and the decode programs' GEMVs fused into persistent kernels with grid barriers (PersistentDecode)
        Map<String, String> persistent = GeneratedKernels.sources(t, List.of(new GeneratedKernels.Case(GeneratedKernels.llama2_7b(), jmlc.compiler.quant.QuantMode.Q4F16_1, java.util.Set.of()),
                        new GeneratedKernels.Case(GeneratedKernels.llama3_8b(), jmlc.compiler.quant.QuantMode.Q4F16_1, java.util.Set.of())),
                jmlc.compiler.schedule.Knobs.defaults().put(jmlc.compiler.build.PersistentDecode.KIND, Map.of("kernels", 8)));
        assertTrue(persistent.values().stream().anyMatch(src -> src.contains("grid barrier")), "the fused kernels are among them");
        ks.putAll(persistent);
        // and the GEMVs with a ring of asynchronous copies (cp.async): 4 stages of 8 warps, 88 to 108 KiB of dynamic shared memory
        List<GeneratedKernels.Case> rings = List.of(new GeneratedKernels.Case(GeneratedKernels.llama2_7b(), jmlc.compiler.quant.QuantMode.Q4F16_1, java.util.Set.of()),
                new GeneratedKernels.Case(GeneratedKernels.llama3_8b(), jmlc.compiler.quant.QuantMode.Q4_0, java.util.Set.of()));
        jmlc.compiler.schedule.Knobs ringKnobs = everyGemv(t, rings, Map.of("stages", 4, "warps", 8));
        Map<String, String> ringed = GeneratedKernels.sources(t, rings, ringKnobs);
        assertTrue(ringed.values().stream().filter(src -> src.contains("cp.async.wait_group") && src.contains("extern __shared__")).count() >= 6,
                "ringed GEMVs in dynamic shared memory among them: " + ringed.keySet());
        ks.putAll(ringed);
        // and the rings with the scales copied in 16-byte pieces a subgroup (knob ring_scales 2, subgroup barriers)
        jmlc.compiler.schedule.Knobs pieceKnobs = everyGemv(t, rings, Map.of("ring_scales", 2));
        Map<String, String> pieces = GeneratedKernels.sources(t, rings, pieceKnobs);
        assertTrue(pieces.values().stream().filter(src -> src.contains("__syncwarp();") && src.contains("_rp")).count() >= 6, "GEMVs with scale pieces among them: " + pieces.keySet());
        ks.putAll(pieces);
        // and the rings bulk-copied by each subgroup's first lane on copy barriers (knob ring_copy 1: cp.async.bulk, mbarrier)
        jmlc.compiler.schedule.Knobs bulkKnobs = everyGemv(t, rings, Map.of("ring_copy", 1));
        Map<String, String> bulk = GeneratedKernels.sources(t, rings, bulkKnobs);
        assertTrue(bulk.values().stream().filter(src -> src.contains("mbarrier::complete_tx::bytes") && src.contains("_bulk")).count() >= 6, "bulk-copied GEMVs among them: " + bulk.keySet());
        ks.putAll(bulk);
        // and the rings' last first batch copied once x's loads are issued (knob after_x 1), with x_coalesce's exchanges too
        Map<String, String> afterX = GeneratedKernels.sources(t, rings, everyGemv(t, rings, Map.of("after_x", 1, "x_coalesce", 1)));
        assertTrue(afterX.keySet().stream().filter(name -> name.contains("_ax1")).count() >= 6, "GEMVs copying after x's loads among them: " + afterX.keySet());
        ks.putAll(afterX);
        // and the GEMVs with x in bytes and the nibbles by dp4a (knob dot4): in the ring (the default) and the register loop
        jmlc.compiler.schedule.Knobs dot4Knobs = jmlc.compiler.schedule.Knobs.defaults();
        for (GeneratedKernels.Case c : rings)
            for (jmlc.compiler.schedule.Tunable tu : jmlc.compiler.build.Build.compile(GeneratedKernels.graph(c), t, jmlc.compiler.schedule.Knobs.defaults(), 512).decode().tunables())
                if (tu.space().signature().kind().equals("gemvh"))
                    dot4Knobs.put(tu.space().signature(), tu.space().signature().shape().contains("x4096") ? Map.of("dot4", 1) : Map.of("dot4", 1, "stages", 0));
        Map<String, String> dot4 = GeneratedKernels.sources(t, rings, dot4Knobs);
        assertTrue(dot4.values().stream().filter(src -> src.contains("dp4a.s32.s32") && src.contains("_d4")).count() >= 6, "dot4 GEMVs among them: " + dot4.keySet());
        ks.putAll(dot4);
        // and the decode attention with a KV head's 8 splits as a thread block cluster (knob cluster): 7B (one query head a
        // KV head) and 8B (four)
        jmlc.compiler.schedule.Knobs clusterKnobs = jmlc.compiler.schedule.Knobs.defaults();
        for (GeneratedKernels.Case c : rings)
            clusterKnobs.putEvery(jmlc.compiler.schedule.rule.AttentionDecodeRule.KIND,
                    jmlc.compiler.build.Build.compile(GeneratedKernels.graph(c), t, jmlc.compiler.schedule.Knobs.defaults(), 512).decode(), Map.of("splits", 8, "cluster", 1));
        Map<String, String> clustered = GeneratedKernels.sources(t, rings, clusterKnobs);
        assertTrue(clustered.values().stream().filter(src -> src.contains("__cluster_dims__(1, 8, 1)") && src.contains("mapa.u64")).count() >= 2,
                "clustered attention kernels among them: " + clustered.keySet());
        ks.putAll(clustered);
        // and the decode attention loading its rows a loop step ahead, the first step's before the wait (knob kv_ahead)
        jmlc.compiler.schedule.Knobs aheadKnobs = jmlc.compiler.schedule.Knobs.defaults();
        for (GeneratedKernels.Case c : rings)
            aheadKnobs.putEvery(jmlc.compiler.schedule.rule.AttentionDecodeRule.KIND,
                    jmlc.compiler.build.Build.compile(GeneratedKernels.graph(c), t, jmlc.compiler.schedule.Knobs.defaults(), 512).decode(), Map.of("kv_ahead", 1));
        Map<String, String> ahead = GeneratedKernels.sources(t, rings, aheadKnobs);
        assertTrue(ahead.keySet().stream().filter(name -> name.matches("attention_decode.*k2a_.*")).count() >= 2, "attention kernels loading a step ahead among them: " + ahead.keySet());
        ks.putAll(ahead);
        // and Llama-3-70B's decode, whose f16 GEMVs stage rows of 8192 with a norm and of 28672 above 48 KiB (opted in)
        Map<String, String> large = GeneratedKernels.sources(t, List.of(new GeneratedKernels.Case(GeneratedKernels.llama3_70b(), jmlc.compiler.quant.QuantMode.Q4F16_1, java.util.Set.of())));
        assertTrue(large.entrySet().stream().filter(e -> e.getKey().startsWith("gemvh") && e.getValue().contains("extern __shared__")).count() >= 3,
                "70B's GEMVs in dynamic shared memory among them: " + large.keySet());
        ks.putAll(large);
        List<String> failures = GeneratedKernels.compileEach(ks, "cu", Map.of(),
                f -> List.of(nvcc.toString(), "-cubin", "-arch=sm_90", "-o", f.toString().replace(".cu", ".cubin"), f.toString()));
        assertTrue(failures.isEmpty(), failures.size() + " of " + ks.size() + " kernels failed to compile:\n" + String.join("\n", failures));
        System.out.println("nvcc -cubin -arch=sm_90: " + ks.size() + " generated kernels compiled");
    }

    /** The defaults, and {@code knobs} for every f16 GEMV of the cases' decode programs. */
    private static jmlc.compiler.schedule.Knobs everyGemv(Target t, List<GeneratedKernels.Case> cases, Map<String, Integer> knobs) {
        jmlc.compiler.schedule.Knobs k = jmlc.compiler.schedule.Knobs.defaults();
        for (GeneratedKernels.Case c : cases)
            k.putEvery("gemvh", jmlc.compiler.build.Build.compile(GeneratedKernels.graph(c), t, jmlc.compiler.schedule.Knobs.defaults(), 512).decode(), knobs);
        return k;
    }
}
