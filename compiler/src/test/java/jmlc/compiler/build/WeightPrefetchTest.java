package jmlc.compiler.build;

import jmlc.compiler.TinyModel;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Capabilities;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.kernel.KernelSimulator;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Arg;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static jmlc.compiler.kernel.K.c;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The next GEMVs' weights asked of the L2 by the decode attention ({@link WeightPrefetch}): which launches
 * host it and what they ask for, where it stays off, and that a whole model's decode computes the same bits
 * with it, every prefetch inside its buffer (the simulator checks each as a GPU would).
 */
class WeightPrefetchTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run

    static Knobs prefetching(int mib) {
        return Knobs.defaults().put(WeightPrefetch.KIND, Map.of("mib", mib));
    }

    /** A launch's weight arguments, data and scales, in order. */
    static List<Arg> weights(KernelCall c) {
        return c.args().stream().filter(a -> a instanceof Arg.WeightData || a instanceof Arg.WeightScales).toList();
    }

    /** Arguments as comparable text (a constant's table is an array: its name says what it is). */
    static List<String> described(List<Arg> args) {
        return args.stream().map(a -> a instanceof Arg.Constant k ? "constant " + k.name() : a.toString()).toList();
    }

    @Test
    void aLlamaLayersAttentionAsksForTheOGemvsWeightsAndGateUpsFirstRows() {
        Target t = Target.parse("cuda:sm_90");
        Graph g = PersistentDecodeTest.graph(PersistentDecodeTest.llama2_7b(), QuantMode.Q4F16_1, 4096);
        Program plain = Build.compile(g, t, Knobs.defaults(), 8).decode();
        assertFalse(plain.fused(), "off by default");
        Build build = Build.compile(g, t, prefetching(24), 8);
        Program p = build.decode();
        assertEquals(24, build.prefetchMib());
        assertEquals(PersistentDecodeTest.names(plain.calls()), PersistentDecodeTest.names(p.calls()), "the steps keep their own calls");
        assertEquals(plain.launches(), p.launches(), "no launch added or removed");
        List<KernelCall> launched = p.launched(), before = plain.launched();
        int hosts = 0;
        for (int i = 0; i < launched.size(); i++) {
            KernelCall c = launched.get(i), was = before.get(i);
            if (!WeightPrefetch.hosts(c.kernel())) {
                assertEquals(was.kernel().name(), c.kernel().name(), "launch " + i + " is as scheduled");
                assertEquals(described(was.args()), described(c.args()), "launch " + i + " is as scheduled");
                continue;
            }
            hosts++;
            assertEquals(Build.rewriteOf(c.kernel()), WeightPrefetch.KIND);
            assertTrue(weights(was).isEmpty(), "a host reads no weights of its own: " + was.kernel().name());
            assertTrue(i > 0 && !weights(before.get(i - 1)).isEmpty(), "the first of a run of weightless launches hosts");
            assertEquals(described(was.args()), described(c.args().subList(0, was.args().size())), "its own arguments first, unchanged");
            List<Arg> asked = c.args().subList(was.args().size(), c.args().size());
            List<Buffer> params = c.kernel().buffers().subList(was.args().size(), c.args().size());
            assertTrue(params.stream().allMatch(Buffer::readOnly), "the weights are read-only parameters");
            // after a layer's attention: all of o's weights, then gate/up's norm weight and the same share of its data and scales
            int next = i + 1;
            while (weights(before.get(next)).isEmpty()) next++;
            if (was.kernel().name().startsWith("attention_decode")) {
                KernelCall o = before.get(next), gateUp = before.get(next + 1);
                List<Arg> oWeights = weights(o), guWeights = weights(gateUp);
                assertEquals(oWeights, asked.subList(0, 2), "the o GEMV's data and scales first");
                assertEquals(guWeights, asked.subList(2, asked.size()), "then gate/up's: its norm's weight, its data and scales");
                Value gu = ((Arg.WeightData) guWeights.get(1)).param();
                long budget = 24L << 20, oBytes = WeightPrefetch.dataBytes(((Arg.WeightData) oWeights.get(0)).param()) + 4096 * 128 * 2;
                assertEquals(4096L * 4096 / 2, WeightPrefetch.dataBytes(((Arg.WeightData) oWeights.get(0)).param()));
                assertEquals(4096L * 4096 / 32 * 2, WeightPrefetch.scaleBytes(((Arg.WeightData) oWeights.get(0)).param()));
                long guData = WeightPrefetch.dataBytes(gu), guScales = WeightPrefetch.scaleBytes(gu);
                long left = budget - oBytes - 4096 * 4; // the norm's f32 weight
                long askedData = left * guData / (guData + guScales), askedScales = left * guScales / (guData + guScales);
                int kib = c.kernel().knobs().get(WeightPrefetch.HOST_KNOB);
                assertTrue(Math.abs(kib * 1024L - budget) <= 1024, "the budget, all of it: " + kib + " KiB");
                assertTrue(Math.abs(askedData + askedScales + oBytes + 4096 * 4 - kib * 1024L) <= 1024 + 32, "the share of gate/up's: " + kib);
            }
        }
        assertEquals(33, hosts, "each layer's attention, and the last row before the LM head");
        String source = build.source(launched.stream().map(KernelCall::kernel).filter(WeightPrefetch::hosts).findFirst().orElseThrow().name());
        assertTrue(source.contains("cp.async.bulk.prefetch.L2.global"), "CUDA's bulk prefetch");
        assertTrue(source.indexOf("cp.async.bulk.prefetch") < source.indexOf("griddepcontrol.wait"), "before the host waits for the kernel before it");
        // the short-context program's one-block attention hosts the same way
        assertTrue(build.shortDecode().launched().stream().filter(c -> WeightPrefetch.hosts(c.kernel())).count() >= 32);
    }

    @ParameterizedTest
    @CsvSource({"vulkan", "rocm:gfx90a", "cuda:sm_80"})
    void targetsWithoutBulkPrefetchesLaunchAsScheduled(String target) {
        Target t = Target.parse(target);
        Build b = Build.compile(PersistentDecodeTest.graph(TinyModel.config(Architecture.LLAMA, 2, 4, 2, false), QuantMode.Q4F16_1, 16), t, prefetching(16), 8);
        assertFalse(b.decode().fused(), target);
        assertEquals(0, b.prefetchMib());
    }

    /** Tiny models' decode with the prefetch, through the simulator: the plain program's logits bit for bit, within the reference's precision. */
    @ParameterizedTest
    @CsvSource({"LLAMA, 2, 4, Q4F16_1", "QWEN2, 2, 4, Q4F16_1", "LLAMA, 2, 6, Q4_0", "LLAMA, 2, 6, Q0F16"})
    void decodeWithThePrefetchComputesWhatThePlainProgramDoes(Architecture arch, int layers, int heads, QuantMode q) {
        // 6 heads: 96 wide, so ranges split unevenly over the host's blocks
        ModelConfig c = TinyModel.config(arch, layers, heads, 2, arch == Architecture.QWEN2);
        Graph unfused = ModelGraph.build(c, new ModelGraph.Options(16, q.kvCacheType(), false));
        Pipeline.Result res = new Pipeline(Pipeline.standard(q), Set.of(), 8).run(unfused);
        Target t = Target.parse("cuda:sm_90");
        Program plain = Build.compile(res.graph(), t, Knobs.defaults(), 8).decode(), ahead = Build.compile(res.graph(), t, prefetching(1), 8).decode();
        assertTrue(ahead.launched().stream().filter(k -> WeightPrefetch.hosts(k.kernel())).count() >= layers, "a host a layer");
        ProgramsAgree.assertSameLogits(c, unfused, res, plain, ahead, 4, SEED);
    }

    /**
     * A host's blocks split each range evenly and cover it exactly, where the range does not divide by the
     * grid: 7 blocks over ranges of 1, 13 and 100 16-byte units, each in a buffer of just that size.
     */
    @Test
    void aHostsBlocksCoverEachRangeAndNoMore() {
        Capabilities caps = Target.parse("cuda:sm_90").caps();
        K.Body body = new K.Body();
        Kernel empty = new Kernel("host_probe", List.of(), List.of(), List.of(), body.build(), new int[] {32, 1, 1},
                new Expr[] {c(7), c(1), c(1)}, Map.of(), "nothing of its own");
        long[] units = {1, 13, 100};
        List<WeightPrefetch.Range> ranges = new java.util.ArrayList<>();
        for (long u : units)
            ranges.add(new WeightPrefetch.Range(new Arg.WeightData(new Value(0, "w" + u, jmlc.compiler.ir.TensorType.of(jmlc.compiler.ir.DType.F16, u, 8), Value.Kind.PARAM)), 16 * u));
        KernelCall host = WeightPrefetch.hosting(new KernelCall(empty, List.of()), ranges, caps);
        assertEquals(3, host.kernel().buffers().size());
        assertEquals(3 * 16 + 13 * 16 + 100 * 16 >> 10, host.kernel().knobs().get(WeightPrefetch.HOST_KNOB));
        try (Arena a = Arena.ofConfined()) {
            Map<String, MemorySegment> bufs = new java.util.HashMap<>();
            for (int i = 0; i < units.length; i++) bufs.put(host.kernel().buffers().get(i).name(), a.allocate(16 * units[i], 16));
            new KernelSimulator(32).launch(host.kernel(), bufs, Map.of());
            // one unit short: the last block's slice would run past the end
            bufs.put(host.kernel().buffers().get(2).name(), a.allocate(16 * 99, 16));
            RuntimeException e = assertThrows(RuntimeException.class, () -> new KernelSimulator(32).launch(host.kernel(), bufs, Map.of()));
            assertTrue(String.valueOf(e.getMessage()).contains("outside its 1584 bytes") || String.valueOf(e.getCause()).contains("outside its 1584 bytes"), e.toString());
        }
    }

    /** The simulator holds a prefetch to what a GPU would: inside its buffer, and a bulk range 16-byte aligned in address and size. */
    @Test
    void theSimulatorRejectsAPrefetchOutsideItsBufferOrMisaligned() {
        Buffer in = new Buffer("in", KType.U32X4, true);
        Capabilities caps = Target.parse("cuda:sm_90").caps();
        record Case(int index, int bytes, boolean ok) {}
        for (Case k : List.of(new Case(0, 64, true), new Case(2, 32, true), new Case(3, 32, false), new Case(0, 24, false), new Case(-1, 16, false))) {
            K.Body b = new K.Body();
            b.prefetchRange(in, c(k.index()), c(k.bytes()));
            Kernel kernel = Kernel.checked("prefetch_probe", List.of(in), List.of(), List.of(), b.build(), new int[] {32, 1, 1},
                    new Expr[] {c(1), c(1), c(1)}, Map.of(), "probe", caps);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment seg = a.allocate(64, 16);
                Runnable launch = () -> new KernelSimulator(32).launch(kernel, Map.of("in", seg), Map.of());
                if (k.ok()) launch.run();
                else assertThrows(RuntimeException.class, launch::run, k.toString());
            }
        }
    }
}
