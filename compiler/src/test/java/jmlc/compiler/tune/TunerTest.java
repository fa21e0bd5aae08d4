package jmlc.compiler.tune;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphBuilder;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Dim;
import jmlc.compiler.ir.Value;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.Knob;
import jmlc.compiler.schedule.KnobSpace;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The search on spaces whose best is known because it was planted: a cost over the knobs with one
 * minimum away from the defaults. A clock that moves one second a measurement makes budgets exact.
 */
class TunerTest {
    static final Target T = Target.parse("cuda:sm_90");

    /** A graph for tasks whose measurer never runs it. */
    static Graph anyGraph() {
        GraphBuilder b = new GraphBuilder("g");
        Value tokens = b.input("tokens", TensorType.of(DType.I32, Dim.SEQ));
        b.input("pos", TensorType.of(DType.I32, 1));
        Value table = b.param("embed", TensorType.of(DType.F32, 8, 4));
        b.output(b.apply("x", new Op.Embed(), table, tokens));
        return b.build();
    }

    static TuningTask task(KnobSpace s, int uses) {
        return new TuningTask(s.signature(), s, "synthetic", anyGraph(), true, 1, 0, uses, s.defaults(), new int[] {1});
    }

    /** Measures with {@code cost}; counts measurements; moves the clock one second each. */
    static final class Planted implements Measurer {
        final ToDoubleFunction<Map<String, Integer>> cost;
        final List<Map<String, Integer>> measured = new ArrayList<>();
        final Set<Map<String, Integer>> refuse = new HashSet<>();
        long nanos;

        Planted(ToDoubleFunction<Map<String, Integer>> cost) {
            this.cost = cost;
        }

        @Override
        public String describe() {
            return "a planted cost";
        }

        @Override
        public Session open(TuningTask t) {
            return new Session() {
                @Override
                public List<Measurement> measure(List<Map<String, Integer>> candidates, double bestMs) {
                    List<Measurement> out = new ArrayList<>();
                    for (Map<String, Integer> c : candidates) {
                        assertTrue(t.space().valid(c), "only valid candidates are proposed: " + c);
                        measured.add(c);
                        nanos += 1_000_000_000L;
                        double ms = cost.applyAsDouble(c);
                        out.add(refuse.contains(c) ? new Measurement.Rejected(c, "differs from the reference")
                                : new Measurement.Timed(c, ms, new double[] {ms}, 0));
                    }
                    return out;
                }

                @Override
                public void close() {
                }
            };
        }
    }

    static Tuner tuner(Planted m, int budgetSeconds, int exhaustiveUpTo, long seed) {
        return new Tuner(m, Tuner.Settings.of(Duration.ofSeconds(budgetSeconds)).seed(seed).exhaustiveUpTo(exhaustiveUpTo).batch(8), Tuner.Listener.NONE, () -> m.nanos);
    }

    /** 4 x 3 x 2 combinations less those breaking the constraint; the best planted at a=8, b=1, c=0. */
    static KnobSpace small() {
        return new KnobSpace(new KernelSignature("synthetic", "small", T))
                .add(Knob.oneOf("a", 2, "a", 1, 2, 4, 8))
                .add(Knob.oneOf("b", 2, "b", 1, 2, 3))
                .add(Knob.oneOf("c", 1, "c", 0, 1))
                .require("a x b <= 16", v -> v.get("a") * v.get("b") <= 16);
    }

    static double smallCost(Map<String, Integer> v) {
        return 1 + Math.abs(Math.log(v.get("a") / 8.0)) + 0.3 * Math.abs(v.get("b") - 1) + 0.2 * v.get("c");
    }

    @Test
    void exhaustiveSearchFindsThePlantedBestAndMeasuresEachCombinationOnce() {
        KnobSpace s = small();
        Planted m = new Planted(TunerTest::smallCost);
        Tuner.Report r = tuner(m, 1000, 64, 1).tune(List.of(task(s, 1)));
        TaskResult res = r.results().getFirst();
        assertEquals(Map.of("a", 8, "b", 1, "c", 0), res.best().knobs());
        assertTrue(res.exhausted() && res.improved());
        assertEquals(s.combinations().size(), res.timedCount(), "each valid combination once");
        assertEquals(s.combinations().size() + 2, m.measured.size(), "then the best and the defaults again, to confirm");
        assertEquals(smallCost(s.defaults()) / smallCost(res.best().knobs()), res.gain(), 1e-12);
    }

    /** Five knobs, 9 x 8 x 6 x 5 x 4 = 8640 combinations (some invalid); a smooth cost with interactions, the best far from the defaults. */
    static KnobSpace large() {
        return new KnobSpace(new KernelSignature("synthetic", "large", T))
                .add(Knob.oneOf("tile", 64, "tile", 8, 16, 32, 48, 64, 96, 128, 192, 256))
                .add(Knob.oneOf("warps", 4, "warps", 1, 2, 3, 4, 6, 8, 12, 16))
                .add(Knob.oneOf("vector", 1, "vector", 1, 2, 3, 4, 6, 8))
                .add(Knob.oneOf("unroll", 2, "unroll", 1, 2, 4, 8, 16))
                .add(Knob.oneOf("split", 1, "split", 1, 2, 4, 8))
                .require("tile x warps <= 1024", v -> v.get("tile") * v.get("warps") <= 1024);
    }

    static double largeCost(Map<String, Integer> v) {
        double t = Math.log(v.get("tile") / 96.0), w = Math.log(v.get("warps") / 6.0), vec = v.get("vector") - 4, u = Math.log(v.get("unroll") / 8.0), s = Math.log(v.get("split") / 2.0);
        return 1 + t * t + w * w + 0.1 * vec * vec + 0.5 * u * u + 0.3 * s * s + 0.2 * Math.abs(t - w) + (v.get("vector") == 6 ? 0.05 : 0);
    }

    @Test
    void evolutionarySearchFindsThePlantedBestOfALargeSpaceWithinAFewPercentOfIt() {
        KnobSpace s = large();
        int space = s.combinations().size();
        assertTrue(space > 5000, "a large space: " + space);
        Map<String, Integer> best = Map.of("tile", 96, "warps", 6, "vector", 4, "unroll", 8, "split", 2);
        for (long seed = 1; seed <= 5; seed++) {
            Planted m = new Planted(TunerTest::largeCost);
            TaskResult r = tuner(m, 300, 64, seed).tune(List.of(task(s, 1))).results().getFirst();
            assertEquals(best, r.best().knobs(), "seed " + seed + " after " + r.timedCount() + " of " + space);
            assertFalse(r.exhausted());
            assertTrue(r.timedCount() <= 300 + 8, "within the budget (a batch over at most): " + r.timedCount());
            assertEquals(m.measured.size(), new HashSet<>(m.measured.subList(0, m.measured.size() - 2)).size() + 2, "no candidate proposed twice");
        }
        // the same seed, the same candidates
        Planted a = new Planted(TunerTest::largeCost), b = new Planted(TunerTest::largeCost);
        tuner(a, 100, 64, 7).tune(List.of(task(s, 1)));
        tuner(b, 100, 64, 7).tune(List.of(task(s, 1)));
        assertEquals(a.measured, b.measured);
    }

    @Test
    void aRefusedCandidateIsNeverKept() {
        KnobSpace s = small();
        Planted m = new Planted(TunerTest::smallCost);
        m.refuse.add(Map.of("a", 8, "b", 1, "c", 0)); // the fastest fails its reference check
        TaskResult r = tuner(m, 1000, 64, 1).tune(List.of(task(s, 1))).results().getFirst();
        assertEquals(Map.of("a", 8, "b", 1, "c", 1), r.best().knobs(), "the fastest of those that passed");
        assertEquals(1, r.rejectedCount());
    }

    @Test
    void aCandidateThatWonByALuckySampleLosesTheConfirmation() {
        KnobSpace s = small();
        Map<String, Integer> lucky = Map.of("a", 4, "b", 3, "c", 0);
        int[] seen = {0};
        Planted m = new Planted(v -> v.equals(lucky) && seen[0]++ == 0 ? 0.5 : 1.0); // all equal but one fast first sample
        TaskResult r = tuner(m, 1000, 64, 1).tune(List.of(task(s, 1))).results().getFirst();
        assertFalse(r.improved(), "timed again beside the defaults it is no faster: the defaults stay");
        assertEquals(s.defaults(), r.best().knobs());
        assertEquals(1.0, r.gain());
    }

    @Test
    void theBudgetGoesToEachTaskByItsShareOfTheStep() {
        KnobSpace big = large(), other = new KnobSpace(new KernelSignature("synthetic", "other", T)).add(Knob.oneOf("tile", 64, "tile", 8, 16, 32, 48, 64, 96, 128, 192, 256))
                .add(Knob.oneOf("warps", 4, "warps", 1, 2, 3, 4, 6, 8, 12, 16)).add(Knob.oneOf("vector", 1, "vector", 1, 2, 3, 4, 6, 8));
        Planted m = new Planted(v -> v.containsKey("unroll") ? largeCost(v) : largeCost(Map.of("tile", v.get("tile"), "warps", v.get("warps"), "vector", v.get("vector"), "unroll", 8, "split", 2)));
        // the small task is used 9 times a step as often: 90% of the step, so about 90% of the time
        Tuner.Report r = tuner(m, 200, 0, 1).tune(List.of(task(big, 1), task(other, 9)));
        assertEquals("other", r.results().getFirst().task().signature().shape(), "the larger share is searched first");
        long first = r.results().get(0).timedCount(), second = r.results().get(1).timedCount();
        assertTrue(first > 5 * second, first + " vs " + second);
        assertTrue(m.measured.size() <= 200 + 2 * 8 + 4, "the budget holds: " + m.measured.size());
    }

    @Test
    void tasksWhoseDefaultsTheBudgetDidNotReachAreReportedUnmeasured() {
        Planted m = new Planted(TunerTest::smallCost);
        Tuner.Report r = tuner(m, 1, 64, 1).tune(List.of(task(small(), 1), task(large(), 1)));
        assertEquals(2, r.results().size());
        TaskResult late = r.results().stream().filter(x -> x.task().signature().shape().equals("large")).findFirst().orElseThrow();
        assertNull(late.defaults());
        assertTrue(late.all().isEmpty());
        assertEquals(1, r.records("2026-12-04T00:00:00Z").size(), "only measured tasks become database entries");
    }
}
