package jmlc.engine.api;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Which decode-step trial the stage keeps: the fastest, only when 1% ahead of the per-kernel result; failures never. */
class DecodeStepTuningTest {
    private static DecodeStepTuning.Trial trial(String name, double tokS) {
        return new DecodeStepTuning.Trial(name, name.equals("base") ? Map.of() : Map.of("stages", 3), 4, tokS, Double.isNaN(tokS) ? "failed to load" : null);
    }

    @Test
    void theFastestIsKeptOnlyWhenItIsOnePercentAhead() {
        var base = trial("base", 600);
        var close = trial("close", 605);
        var ahead = trial("ahead", 620);
        var faster = trial("faster", 640);
        var failed = trial("failed", Double.NaN);
        assertSame(base, DecodeStepTuning.kept(List.of(base, close)), "0.8% is within noise: the per-kernel result stands");
        assertSame(ahead, DecodeStepTuning.kept(List.of(base, close, ahead)));
        assertSame(faster, DecodeStepTuning.kept(List.of(base, faster, failed, ahead)), "the fastest, wherever it comes");
        assertSame(base, DecodeStepTuning.kept(List.of(base, failed)), "a trial that failed is never kept");
        var baseFailed = trial("base", Double.NaN);
        assertSame(baseFailed, DecodeStepTuning.kept(List.of(baseFailed, faster)), "without the per-kernel figure nothing is judged: it stands");
        assertSame(base, DecodeStepTuning.kept(List.of(base)));
    }

    @Test
    void aTrialWhoseLogitsAreNotFiniteFailsSayingHowMany() {
        assertNull(DecodeStepTuning.nonFinite(new float[] {1f, -3e4f, 0f}));
        String m = DecodeStepTuning.nonFinite(new float[] {1f, Float.NaN, Float.POSITIVE_INFINITY, 2f});
        assertNotNull(m);
        assertTrue(m.startsWith("2 of the 4 logits"), m);
    }

    @Test
    void aVariantWhoseLogitsDifferBeyondTheToleranceIsNamed() {
        float[] want = {10f, -4f, 2f};
        assertNull(DecodeStepTuning.disagreement(want, new float[] {10.05f, -4f, 2f}, 1e-2), "0.05 is within 1e-2 x 10");
        String m = DecodeStepTuning.disagreement(want, new float[] {10f, -4f, 2.2f}, 1e-2);
        assertNotNull(m);
        assertTrue(m.contains("token 2") && m.contains("0.2"), m);
        assertNotNull(DecodeStepTuning.disagreement(want, new float[] {10f, Float.NaN, 2f}, 1e-2), "NaN never agrees");
        assertNotNull(DecodeStepTuning.disagreement(want, new float[] {10f, -4f}, 1e-2));
    }

    /**
     * A ring variant is laid over each trigger-capable decode GEMV's tuned knobs, and again over its defaults: the
     * tuned knobs a per-kernel winner brought stay in the first, not in the second; the ring's needs and the variant in both.
     */
    @Test
    void aVariantIsLaidOverTheTunedKnobsAndOverTheDefaults() {
        var config = new jmlc.compiler.model.ModelConfig(jmlc.compiler.model.Architecture.LLAMA, 300, 64, 128, 2, 4, 2, 16, 1e-5, 10000,
                new jmlc.compiler.ir.RopeSpec.Scaling.None(), jmlc.compiler.ir.RopeSpec.Style.HALF, 32, false, false);
        var cm = jmlc.engine.model.CompiledModel.compile(config, jmlc.compiler.quant.QuantMode.Q4F16_1, 32, false, java.util.Set.of(), 16);
        var target = jmlc.compiler.target.Target.parse("cuda:sm_90");
        var build = jmlc.compiler.build.Build.compile(cm.graph(), target, jmlc.compiler.schedule.Knobs.defaults(), cm.maxStepTokens());
        var tasks = jmlc.compiler.tune.Tasks.extract(build, jmlc.compiler.schedule.Knobs.defaults(), cm.maxStepTokens(), 8, x -> true).stream()
                .filter(t -> t.decode() && t.space().defaults().containsKey(jmlc.compiler.schedule.Program.EARLY_TRIGGER)).toList();
        assertFalse(tasks.isEmpty(), "the tiny model has GEMVs with the trigger");
        Map<String, jmlc.compiler.tune.TuningTask> bySignature = new java.util.HashMap<>();
        List<jmlc.compiler.tune.TuningRecord> tuned = new java.util.ArrayList<>();
        for (var t : tasks) {
            bySignature.put(t.signature().toString(), t);
            Map<String, Integer> k = new java.util.HashMap<>(t.space().defaults());
            k.put("pipeline", 2); // a per-kernel winner's own choice, which a ring overrides (RING_NEEDS)
            k.put("warps", 4);    // and one it keeps unless the variant sets it
            k.put("rows_per_warp", k.containsKey("rows_per_warp") ? 2 : 0);
            tuned.add(new jmlc.compiler.tune.TuningRecord(t.signature().toString(), k, 1, 1, 1, 0, false, t.timedAs(), t.uses(), "now", "test"));
        }
        Map<String, Integer> ring = DecodeStepTuning.VARIANTS.getFirst();
        var overTuned = DecodeStepTuning.laid(tuned, bySignature, ring, false);
        var overDefaults = DecodeStepTuning.laid(tuned, bySignature, ring, true);
        assertFalse(overTuned.isEmpty() || overDefaults.isEmpty());
        for (var r : overTuned) {
            assertEquals(1, r.knobs().get("pipeline"), "the ring's needs over the tuned knobs: " + r);
            ring.forEach((k, v) -> assertEquals(v, r.knobs().get(k), "the variant's " + k));
            if (r.knobs().containsKey("rows_per_warp")) assertEquals(2, r.knobs().get("rows_per_warp"), "the tuned knob stays: " + r);
        }
        for (var r : overDefaults) {
            var defaults = bySignature.get(r.signature()).space().defaults();
            ring.forEach((k, v) -> assertEquals(v, r.knobs().get(k), "the variant's " + k));
            r.knobs().forEach((k, v) -> {
                if (!ring.containsKey(k) && !DecodeStepTuning.RING_NEEDS.containsKey(k)) assertEquals(defaults.get(k), v, k + " is the default's: " + r);
            });
            assertTrue(r.how().contains("over the defaults"), r.how());
        }
    }

    /** The runner's entry the stage writes keeps what the database held for it (a hand-written short_prompt), with its own dependent. */
    @Test
    void theRunnersEntryKeepsWhatTheDatabaseHeld(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        var device = new jmlc.engine.runtime.DeviceIdentity("cuda", "Some GPU", "cuda:sm_90", "CUDA 13.0");
        var target = jmlc.compiler.target.Target.parse("cuda:sm_90");
        jmlc.engine.tuning.TuningDatabase.save(dir, device, List.of(
                new jmlc.compiler.tune.TuningRecord("runner", Map.of("short_prompt", 4), 0, 0, 0, 0, false, "", 1, "", "by hand"),
                new jmlc.compiler.tune.TuningRecord("runner@cuda:sm_90", Map.of("short_prompt", 5, "dependent", 1), 0, 0, 0, 0, false, "", 1, "", "by hand")));
        var r = DecodeStepTuning.Runner.of(dir, device, target, "now");
        assertEquals("runner@cuda:sm_90", r.signature());
        assertEquals(Map.of("short_prompt", 5, "dependent", 0), r.record(0).knobs(), "the target's entry wins over the generic one");
        assertEquals(Map.of("short_prompt", 5, "dependent", 1), r.record(1).knobs());
    }
}
