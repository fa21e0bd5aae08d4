package jmlc.compiler.build;

import jmlc.compiler.TinyModel;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.InvalidKnobException;
import jmlc.compiler.schedule.Knob;
import jmlc.compiler.schedule.KnobSpace;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Tunable;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Rules declare their knobs as spaces; a value a rule cannot use is an error that names it, never a silent fallback. */
class KnobSpaceTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run

    static Graph tinyLlama(QuantMode q) {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 2, 4, 2, false);
        return new Pipeline(Pipeline.standard(q), Set.of(), 8).run(ModelGraph.build(c, new ModelGraph.Options(16, q.kvCacheType(), false))).graph();
    }

    @Test
    void aSpaceChecksValuesAndCombinations() {
        KnobSpace s = new KnobSpace(new KernelSignature("gemvh", "q4_64x64", Target.parse("cuda:sm_90")))
                .add(Knob.oneOf("vector", 4, "words a lane loads", 1, 2, 4))
                .add(Knob.range("unroll", 2, 1, 8, "loads in flight", 1, 2, 4))
                .require("vector x unroll <= 8", v -> v.get("vector") * v.get("unroll") <= 8);
        assertEquals(Map.of("vector", 4, "unroll", 2), s.resolve(Map.of()));
        assertEquals(Map.of("vector", 2, "unroll", 4), s.resolve(Map.of("vector", 2, "unroll", 4)));
        var bad = assertThrows(InvalidKnobException.class, () -> s.resolve(Map.of("vector", 3)));
        assertTrue(bad.getMessage().contains("gemvh_q4_64x64@cuda:sm_90") && bad.getMessage().contains("vector=3") && bad.getMessage().contains("1, 2, 4"), bad.getMessage());
        var range = assertThrows(InvalidKnobException.class, () -> s.resolve(Map.of("unroll", 9)));
        assertTrue(range.getMessage().contains("unroll=9") && range.getMessage().contains("1..8"), range.getMessage());
        var unknown = assertThrows(InvalidKnobException.class, () -> s.resolve(Map.of("tiles", 2)));
        assertTrue(unknown.getMessage().contains("no knob 'tiles'") && unknown.getMessage().contains("vector, unroll"), unknown.getMessage());
        var broken = assertThrows(InvalidKnobException.class, () -> s.resolve(Map.of("vector", 4, "unroll", 4)));
        assertTrue(broken.getMessage().contains("vector x unroll <= 8"), broken.getMessage());
        // every combination of the candidates that keeps the constraint, the defaults first
        List<Map<String, Integer>> all = s.combinations();
        assertEquals(Map.of("vector", 4, "unroll", 2), all.getFirst());
        assertEquals(3 * 3 - 1, all.size(), "4x4 breaks the constraint: " + all);
        assertTrue(all.stream().allMatch(s::valid));
    }

    @Test
    void anInvalidTunedValueIsAnErrorNamingTheKernelNotAnotherRule() {
        Graph g = tinyLlama(QuantMode.Q4F16_1);
        Target t = Target.parse("cuda:sm_90");
        Build b = Build.compile(g, t, Knobs.defaults(), 8);
        Tunable gemvh = b.decode().tunables().stream().filter(x -> x.space().signature().kind().equals("gemvh")).findFirst().orElseThrow();
        // before this change the f16 GEMV declined a bad value and the f32 GEMV ran instead
        var e = assertThrows(InvalidKnobException.class, () -> Build.compile(g, t, Knobs.defaults().put(gemvh.space().signature(), Map.of("vector", 3)), 8));
        assertTrue(e.getMessage().contains(gemvh.space().signature().toString()) && e.getMessage().contains("vector=3") && e.getMessage().contains("1, 2, 4"), e.getMessage());
        // a value for another target does not apply here; one for every target does
        Knobs other = Knobs.defaults().put(new KernelSignature("gemvh", gemvh.space().signature().shape(), Target.parse("rocm:gfx90a")), Map.of("vector", 3));
        assertEquals(b.sources(), Build.compile(g, t, other, 8).sources());
        Knobs any = Knobs.defaults().put(gemvh.space().signature().key(), Map.of("unroll", 3) /* not the default */);
        assertNotEquals(b.sources(), Build.compile(g, t, any, 8).sources());
    }

    /** Every rule's space for every program of a model builds: its defaults, and a sample of its combinations, at subgroup widths 32 and 64. */
    @Test
    void everyDeclaredCombinationBuilds() {
        Random r = new Random(SEED);
        for (QuantMode q : new QuantMode[] {QuantMode.Q4F16_1, QuantMode.Q0F32})
            for (String target : new String[] {"cuda:sm_90", "rocm:gfx90a"}) {
                Graph g = tinyLlama(q);
                Target t = Target.parse(target);
                Build b = Build.compile(g, t, Knobs.defaults(), 8);
                List<Tunable> spaces = new ArrayList<>(b.decode().tunables());
                spaces.addAll(b.prefill().tunables());
                assertFalse(spaces.isEmpty());
                for (Tunable s : spaces) {
                    assertEquals(s.space().resolve(Map.of()), s.chosen(), "the untuned program chose the defaults of " + s.space().signature());
                    List<Map<String, Integer>> combos = new ArrayList<>(s.space().combinations());
                    Collections.shuffle(combos, r);
                    for (Map<String, Integer> v : combos.subList(0, Math.min(4, combos.size()))) {
                        Build tuned = Build.compile(g, t, Knobs.defaults().put(s.space().signature(), v), 8);
                        Tunable again = tuned.program(b.decode().tunables().contains(s)).tunables().stream()
                                .filter(x -> x.space().signature().equals(s.space().signature())).findFirst().orElseThrow();
                        // recorded as used: the values set, or where one makes another moot (GemvHalfRule.asUsed: a ring the
                        // other knobs rule out) values that build the very same kernels
                        if (!v.equals(again.chosen()))
                            assertEquals(tuned.sources(), Build.compile(g, t, Knobs.defaults().put(s.space().signature(), again.chosen()), 8).sources(),
                                    "seed " + SEED + ": " + v + " recorded as " + again.chosen());
                    }
                }
            }
    }
}
