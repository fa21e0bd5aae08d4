package jmlc.compiler.build;

import jmlc.compiler.TinyModel;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.schedule.SimulatedExecutor;
import jmlc.compiler.target.Target;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Persistent decode kernels ({@link PersistentDecode}): which launches fuse, what a fused kernel
 * looks like, and that a whole model's fused decode program computes on the kernel simulator exactly
 * what its launch-per-kernel program does (the same arithmetic a row, so the same bits), and both what
 * the reference interpreter does.
 */
class PersistentDecodeTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run

    static Knobs fusing(int kernels) {
        return Knobs.defaults().put(PersistentDecode.KIND, Map.of("kernels", kernels));
    }

    /**
     * {@code knobs} with every f16 GEMV of {@code g} in the register loop ({@code stages} 0): sm_90's default ring takes
     * more shared memory than a fused kernel's static arrays hold, so those GEMVs would not fuse.
     */
    static Knobs registerLoops(Graph g, Target t, Knobs knobs) {
        return Knobs.defaults().with(knobs).putEvery("gemvh", Build.compile(g, t, Knobs.defaults(), 8).decode(), Map.of("stages", 0));
    }

    static Graph graph(ModelConfig c, QuantMode q, int ctx) {
        return new Pipeline(Pipeline.standard(q), Set.of(), 8).run(ModelGraph.build(c, new ModelGraph.Options(ctx, q.kvCacheType(), false))).graph();
    }

    static ModelConfig llama2_7b() {
        return new ModelConfig(Architecture.LLAMA, 32000, 4096, 11008, 32, 32, 32, 128, 1e-5, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 4096, false, false);
    }

    @Test
    void aLlamaLayersGemvsFromOToTheNextQkvRunAsOneKernel() {
        Target t = Target.parse("cuda:sm_90");
        Graph g = graph(llama2_7b(), QuantMode.Q4F16_1, 4096);
        Program plain = Build.compile(g, t, registerLoops(g, t, Knobs.defaults()), 8).decode();
        assertFalse(plain.fused(), "the default launches kernel by kernel");
        Build build = Build.compile(g, t, registerLoops(g, t, fusing(8)), 8);
        Program fused = build.decode();
        assertTrue(fused.fused());
        assertEquals(names(plain.calls()), names(fused.calls()), "the steps keep each node's own calls");
        // embed, qkv of layer 0, then per layer the attention (partial and combine) and one kernel for o, gate/up,
        // down and the next layer's qkv (the last layer's without it), then the last row and the LM head
        List<KernelCall> fusedCalls = fused.launched().stream().filter(c -> c.kernel().gridBarriers()).toList();
        assertEquals(32, fusedCalls.size());
        assertEquals(plain.launches() - 31 * 3 - 2, fused.launches());
        for (int i = 0; i < 32; i++) {
            Kernel k = fusedCalls.get(i).kernel();
            int members = i < 31 ? 4 : 3;
            assertEquals(members, k.knobs().get("kernels"), k.name());
            assertTrue(k.summary().startsWith(members + " kernels in one launch"), k.summary());
            // shared arrays overlaid, each as large as the largest member's: x in f16 (down's 11008 inputs) and the
            // norm prologues' 8 warps' partial sums; not the members' sum
            assertEquals(11008 * 2 + 8 * 4, k.sharedBytes(), k.name());
            // weights read-only and unaliased; activations and the barrier's counter written or possibly aliased
            for (int j = 0; j < k.buffers().size(); j++) {
                Buffer b = k.buffers().get(j);
                boolean weight = fusedCalls.get(i).args().get(j) instanceof jmlc.compiler.schedule.Arg.WeightData
                        || fusedCalls.get(i).args().get(j) instanceof jmlc.compiler.schedule.Arg.WeightScales;
                assertEquals(weight, b.readOnly(), k.name() + " buffer " + b.name());
            }
            assertEquals(PersistentDecode.BARRIER_COUNTER, fusedCalls.get(i).args().getLast());
            assertTrue(build.sources().get(k.name()).contains("grid barrier"), "its CUDA source is in the build");
        }
        // the first 31 layers' fused kernels are one kernel (same members): one name, one source; the last layer's another
        assertEquals(2, fused.kernels().stream().filter(Kernel::gridBarriers).count(), "kernels with grid barriers");
        // at most 2 a kernel: the runs of 4 split in two
        Program pairs = Build.compile(g, t, registerLoops(g, t, fusing(2)), 8).decode();
        assertTrue(pairs.launched().stream().filter(c -> c.kernel().gridBarriers()).allMatch(c -> c.kernel().knobs().get("kernels") == 2));
        assertEquals(plain.launches() - 31 * 2 - 1, pairs.launches());
        // the short-context program fuses the same way
        assertTrue(build.shortDecode().fused());
    }

    /**
     * A fusing build schedules sm_90's default-ringed GEMVs in the register loop (a ring's dynamic shared memory
     * does not fit a fused kernel), so the defaults fuse; a GEMV whose stages the knobs set keeps them.
     */
    @Test
    void aFusingBuildPutsDefaultRingsInTheRegisterLoop() {
        Target t = Target.parse("cuda:sm_90");
        Graph g = graph(TinyModel.config(Architecture.LLAMA, 2, 4, 2, false), QuantMode.Q4F16_1, 16);
        Program plain = Build.compile(g, t, Knobs.defaults(), 8).decode();
        assertTrue(plain.kernels().stream().anyMatch(k -> k.name().contains("_ring4t")), "sm_90's default: rings");
        Program fused = Build.compile(g, t, fusing(8), 8).decode();
        assertTrue(fused.fused(), "the defaults fuse");
        assertTrue(fused.kernels().stream().noneMatch(k -> k.name().contains("_ring")), names(fused.calls()).toString());
        Knobs ringSet = fusing(8).putEvery("gemvh", plain, Map.of("stages", 3));
        assertTrue(Build.compile(g, t, ringSet, 8).decode().kernels().stream().anyMatch(k -> k.name().contains("_ring3")), "stages set by hand stay");
    }

    static List<String> names(List<KernelCall> calls) {
        return calls.stream().map(c -> c.kernel().name()).toList();
    }

    @ParameterizedTest
    @CsvSource({"vulkan", "vulkan:sg8", "rocm:gfx90a"})
    void targetsWithoutGridBarriersLaunchKernelByKernel(String target) {
        Program p = Build.compile(graph(TinyModel.config(Architecture.LLAMA, 2, 4, 2, false), QuantMode.Q4F16_1, 16), Target.parse(target), fusing(8), 8).decode();
        assertFalse(p.fused(), target);
        assertEquals(1, PersistentDecode.kernels(fusing(8), Target.parse(target)));
    }

    @Test
    void aProgramWithNothingToFuseIsReturnedAsItIs() {
        Target t = Target.parse("cuda:sm_90");
        Program p = Build.compile(graph(TinyModel.config(Architecture.LLAMA, 2, 4, 2, false), QuantMode.Q4F16_1, 16), t, Knobs.defaults(), 8).decode();
        assertSame(p, PersistentDecode.fuse(p, t.caps(), 1));
    }

    /**
     * With GEMV knobs that load weights before a GEMV waits for its input (an L2 prefetch of its first tile,
     * {@code prefetch} 1; its first batch of weights in registers, {@code pipeline} 2), a fused kernel issues
     * those before the grid barrier, where they overlap the wait for the slowest block; the logits stay the
     * kernel-by-kernel program's, bit for bit.
     */
    @Test
    void membersLoadTheirFirstWeightsBeforeTheBarrier() {
        TwoLayers p = TwoLayers.withGemvKnobs(Map.of("pipeline", 2, "prefetch", 1));
        Program fused = p.fused();
        Kernel k = fused.launched().stream().map(KernelCall::kernel).filter(Kernel::gridBarriers).findFirst().orElseThrow();
        int members = 0;
        for (var s : ((jmlc.compiler.kernel.Stmt.Block) k.body()).body()) {
            if (!(s instanceof jmlc.compiler.kernel.Stmt.Block member) || !k.gridBarriers()) continue;
            List<jmlc.compiler.kernel.Stmt> own = member.body();
            int barrier = -1;
            for (int j = 0; j < own.size() && barrier < 0; j++) if (own.get(j) instanceof jmlc.compiler.kernel.Stmt.GridBarrier) barrier = j;
            if (barrier < 0) continue; // the first member: nothing to wait for
            members++;
            var before = new jmlc.compiler.kernel.Stmt.Block(own.subList(0, barrier));
            assertTrue(jmlc.compiler.kernel.KernelCheck.holds(before, jmlc.compiler.kernel.Stmt.Prefetch.class), "an L2 prefetch before the barrier: " + before);
            assertTrue(before.toString().contains("Load[buffer=Buffer[name=k" ) && before.toString().contains("readOnly=true, unchanging=true], index"), "weights loaded before the barrier");
            assertFalse(before.toString().contains("unchanging=false], index"), "nothing another block writes is read before the barrier");
        }
        assertEquals(k.knobs().get("kernels") - 1, members, "every member after the first");
        p.assertSameLogits(4);
    }

    /**
     * A two-layer Llama in q4f16_1 for cuda:sm_90 with {@code gemv} over every f16 GEMV's defaults: its decode
     * program kernel by kernel ({@code plain}) and with up to 8 launches a kernel ({@code fused}).
     */
    private record TwoLayers(ModelConfig c, Graph unfused, Pipeline.Result res, Program plain, Program fused) {
        static TwoLayers withGemvKnobs(Map<String, Integer> gemv) {
            ModelConfig c = TinyModel.config(Architecture.LLAMA, 2, 4, 2, false);
            Graph unfused = ModelGraph.build(c, new ModelGraph.Options(16, QuantMode.Q4F16_1.kvCacheType(), false));
            Pipeline.Result res = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), Set.of(), 8).run(unfused);
            Target t = Target.parse("cuda:sm_90");
            Knobs knobs = registerLoops(res.graph(), t, Knobs.defaults()).putEvery("gemvh", Build.compile(res.graph(), t, Knobs.defaults(), 8).decode(), gemv);
            return new TwoLayers(c, unfused, res, Build.compile(res.graph(), t, knobs, 8).decode(),
                    Build.compile(res.graph(), t, Knobs.defaults().with(knobs).put(PersistentDecode.KIND, Map.of("kernels", 8)), 8).decode());
        }

        /** The fused program's logits over {@code positions} random tokens on the simulator, bit for bit the plain program's. */
        void assertSameLogits(int positions) {
            TinyModel m = new TinyModel(c, unfused, SEED);
            Random r = new Random(SEED);
            try (Arena a = Arena.ofShared()) {
                var w = m.weights(res.graph(), a);
                try (var simPlain = new SimulatedExecutor(plain, res.memory(), w, 8); var simFused = new SimulatedExecutor(fused, res.memory(), w, 8)) {
                    for (int i = 0; i < positions; i++) {
                        int[] tok = {r.nextInt(c.vocabSize())};
                        assertArrayEquals(simPlain.run(plain, tok, i), simFused.run(fused, tok, i), "position " + i + " (seed " + SEED + ")");
                    }
                }
            }
        }
    }

    /**
     * GEMVs whose weights travel through a ring of asynchronous copies ({@code stages}) fuse too: their rings
     * overlay other members' shared arrays, so nothing of a ring may go before the grid barrier (it touches
     * shared memory another member may still use), and every copy a member started has landed before the next
     * member's turn. The fused program's logits are the kernel-by-kernel one's, bit for bit.
     */
    @Test
    void membersWithARingOfAsynchronousCopiesFuseToo() {
        TwoLayers p = TwoLayers.withGemvKnobs(Map.of("stages", 3, "warps", 4, "blocks", 3, "trigger", 1)); // a member's early trigger stays inside, a no-op: the fused kernel lets the next launch at its start
        Program fused = p.fused();
        Kernel k = fused.launched().stream().map(KernelCall::kernel).filter(Kernel::gridBarriers).findFirst().orElseThrow();
        assertTrue(jmlc.compiler.kernel.KernelCheck.holds(k.body(), jmlc.compiler.kernel.Stmt.AsyncCopy.class), "the members copy through their rings: " + k.name());
        int members = 0;
        for (var s : ((jmlc.compiler.kernel.Stmt.Block) k.body()).body()) {
            if (!(s instanceof jmlc.compiler.kernel.Stmt.Block member)) continue;
            List<jmlc.compiler.kernel.Stmt> own = member.body();
            int barrier = -1;
            for (int j = 0; j < own.size() && barrier < 0; j++) if (own.get(j) instanceof jmlc.compiler.kernel.Stmt.GridBarrier) barrier = j;
            if (barrier < 0) continue; // the first member: nothing to wait for
            members++;
            for (int j = 0; j < barrier; j++)
                assertFalse(jmlc.compiler.kernel.KernelCheck.holds(own.get(j), jmlc.compiler.kernel.Stmt.AsyncCopy.class), "no copy into a ring before the barrier");
        }
        assertEquals(k.knobs().get("kernels") - 1, members, "every member after the first");
        p.assertSameLogits(3);
    }

    /**
     * Tiny models (two and three layers; Qwen2's biases) in the quantizations whose decode GEMVs are
     * persistent (the f16 GEMV over 4-bit weights: q4f16_1 and GGUF's q4_0): the fused decode program
     * bit for bit the plain one's, both within the reference's stated precision.
     */
    @ParameterizedTest
    @CsvSource({"LLAMA, 2, Q4F16_1, 8", "QWEN2, 3, Q4F16_1, 8", "LLAMA, 2, Q4_0, 8", "LLAMA, 3, Q4F16_1, 2"})
    void fusedDecodeComputesWhatTheKernelByKernelProgramDoes(Architecture arch, int layers, QuantMode q, int kernels) {
        ModelConfig c = TinyModel.config(arch, layers, 4, 2, arch == Architecture.QWEN2);
        Graph unfused = ModelGraph.build(c, new ModelGraph.Options(16, q.kvCacheType(), false));
        Pipeline.Result res = new Pipeline(Pipeline.standard(q), Set.of(), 8).run(unfused);
        Target t = Target.parse("cuda:sm_90");
        Program plain = Build.compile(res.graph(), t, registerLoops(res.graph(), t, Knobs.defaults()), 8).decode(),
                fused = Build.compile(res.graph(), t, registerLoops(res.graph(), t, fusing(kernels)), 8).decode();
        assertTrue(fused.fused() && fused.launches() < plain.launches(), fused.launches() + " launches against " + plain.launches());
        ProgramsAgree.assertSameLogits(c, unfused, res, plain, fused, 6, SEED);
    }
}
