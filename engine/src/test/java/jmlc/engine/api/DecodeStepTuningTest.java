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
    void aVariantWhoseLogitsDifferBeyondTheToleranceIsNamed() {
        float[] want = {10f, -4f, 2f};
        assertNull(DecodeStepTuning.disagreement(want, new float[] {10.05f, -4f, 2f}, 1e-2), "0.05 is within 1e-2 x 10");
        String m = DecodeStepTuning.disagreement(want, new float[] {10f, -4f, 2.2f}, 1e-2);
        assertNotNull(m);
        assertTrue(m.contains("token 2") && m.contains("0.2"), m);
        assertNotNull(DecodeStepTuning.disagreement(want, new float[] {10f, Float.NaN, 2f}, 1e-2), "NaN never agrees");
        assertNotNull(DecodeStepTuning.disagreement(want, new float[] {10f, -4f}, 1e-2));
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
