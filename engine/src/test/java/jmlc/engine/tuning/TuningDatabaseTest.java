package jmlc.engine.tuning;

import jmlc.compiler.build.Build;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.target.Target;
import jmlc.compiler.tune.TuningRecord;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.runtime.DeviceIdentity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The tuning database: entries round-trip; a corrupt, foreign or stale file is a warning and the rules' defaults, never an exception. */
class TuningDatabaseTest {
    static final DeviceIdentity H200 = new DeviceIdentity("cuda", "NVIDIA H200", "cuda:sm_90", "CUDA 13.0");
    static final DeviceIdentity H100 = new DeviceIdentity("cuda", "NVIDIA H100 80GB HBM3", "cuda:sm_90", "CUDA 13.0");
    static final String GEMV = "gemvh_q4f16g32z740964096_4096x4096@cuda:sm_90";

    static TuningRecord record(String sig, Map<String, Integer> knobs, double best, double def) {
        return new TuningRecord(sig, knobs, best, def, 40, 1, false, "decode at position 256", 32, "2026-12-04T10:00:00Z", "device events, median of 7");
    }

    @Test
    void entriesRoundTripAndLaterRunsAddToThem(@TempDir Path dir) throws Exception {
        TuningRecord a = record(GEMV, Map.of("warps", 8, "rows_per_warp", 2), 0.0057, 0.0060);
        Path f = TuningDatabase.save(dir, H200, List.of(a));
        assertEquals(dir.resolve("cuda-cuda_sm_90-NVIDIA_H200.json"), f);
        TuningDatabase.Loaded db = TuningDatabase.read(f, H200);
        assertEquals(List.of(), db.warnings());
        assertEquals(List.of(a), db.records(), "every field comes back");
        KernelSignature sig = new KernelSignature("gemvh", "q4f16g32z740964096_4096x4096", Target.parse("cuda:sm_90"));
        assertEquals(Map.of("warps", 8, "rows_per_warp", 2), db.knobs().values(sig));
        assertEquals(Map.of(), db.knobs().values(new KernelSignature("gemvh", "q4f16g32z740964096_4096x4096", Target.parse("rocm:gfx90a"))),
                "an entry for one target does not hold for another");

        TuningRecord b = record("gemm_q4f16g32z740964096_4096x4096@cuda:sm_90", Map.of("bm", 32), 0.41, 0.44);
        TuningRecord a2 = record(GEMV, Map.of("warps", 4), 0.0055, 0.0060);
        TuningDatabase.save(dir, H200, List.of(b, a2));
        db = TuningDatabase.forDevice(H200); // the directory of the test run: not this one
        assertTrue(db.records().isEmpty() || !db.file().startsWith(dir));
        db = TuningDatabase.read(f, H200);
        assertEquals(2, db.records().size(), "the second run kept the first's other entries");
        assertEquals(Map.of("warps", 4), db.knobs().values(sig), "and replaced the one it measured again");
    }

    @Test
    void aCorruptFileIsAWarningAndTheDefaults(@TempDir Path dir) throws Exception {
        Path f = TuningDatabase.file(dir, H200);
        for (String text : List.of("{\"jmlc_tuning\": 1, \"device\": {\"name\": \"NVIDIA H200\", \"target\": \"cuda:sm_90\"}, \"kernels\": {",
                "not json at all", "[1, 2, 3]", "{\"jmlc_tuning\": 99, \"device\": {\"name\": \"NVIDIA H200\", \"target\": \"cuda:sm_90\"}}",
                "{\"jmlc_tuning\": 1}", "")) {
            Files.writeString(f, text);
            TuningDatabase.Loaded db = TuningDatabase.read(f, H200);
            assertTrue(db.knobs().isEmpty(), text);
            assertEquals(1, db.warnings().size(), text);
            assertTrue(db.warnings().getFirst().contains(f.toString()) && db.warnings().getFirst().contains("defaults"), db.warnings().getFirst());
        }
        // one malformed entry: that kernel keeps its defaults, the others are used
        Files.writeString(f, """
                {"jmlc_tuning": 1, "device": {"backend": "cuda", "name": "NVIDIA H200", "target": "cuda:sm_90", "driver": "CUDA 13.0"},
                 "kernels": {"%s": {"knobs": {"warps": "eight"}},
                             "gemm_x@cuda:sm_90": {"knobs": {"bm": 32}},
                             "runner@cuda:sm_90": {"knobs": {}}}}
                """.formatted(GEMV));
        TuningDatabase.Loaded db = TuningDatabase.read(f, H200);
        assertEquals(Map.of("gemm_x@cuda:sm_90", Map.of("bm", 32)), db.knobs().entries());
        assertEquals(2, db.warnings().size(), db.warnings().toString());
        assertTrue(db.warnings().getFirst().contains("warps") && db.warnings().getFirst().contains("eight"), db.warnings().getFirst());
    }

    @Test
    void anotherDevicesDatabaseIsNotUsedAndAnotherDriversIs(@TempDir Path dir) throws Exception {
        Path f = TuningDatabase.save(dir, H100, List.of(record(GEMV, Map.of("warps", 4), 1, 2)));
        Path h200File = TuningDatabase.file(dir, H200);
        Files.copy(f, h200File); // an H100's file where the H200's belongs
        TuningDatabase.Loaded db = TuningDatabase.read(h200File, H200);
        assertTrue(db.knobs().isEmpty());
        assertEquals(1, db.warnings().size());
        assertTrue(db.warnings().getFirst().contains("H100") && db.warnings().getFirst().contains("H200"), db.warnings().getFirst());

        DeviceIdentity newDriver = new DeviceIdentity("cuda", "NVIDIA H100 80GB HBM3", "cuda:sm_90", "CUDA 13.1");
        db = TuningDatabase.read(f, newDriver);
        assertFalse(db.knobs().isEmpty(), "a new driver keeps the knobs");
        assertTrue(db.warnings().getFirst().contains("CUDA 13.0") && db.warnings().getFirst().contains("CUDA 13.1"), db.warnings().getFirst());
    }

    @Test
    void compilingWithoutTheDeviceUsesTheOneDatabaseOfItsTarget(@TempDir Path dir) throws Exception {
        assertNull(TuningDatabase.forTarget(dir, "cuda:sm_90", null).file());
        TuningDatabase.save(dir, H100, List.of(record(GEMV, Map.of("warps", 4), 1, 2)));
        TuningDatabase.Loaded one = TuningDatabase.forTarget(dir, "cuda:sm_90", null);
        assertEquals(Map.of("warps", 4), one.knobs().entries().get(GEMV));
        assertTrue(TuningDatabase.forTarget(dir, "rocm:gfx90a", null).knobs().isEmpty());
        TuningDatabase.save(dir, H200, List.of(record(GEMV, Map.of("warps", 8), 1, 2)));
        TuningDatabase.Loaded two = TuningDatabase.forTarget(dir, "cuda:sm_90", null);
        assertTrue(two.knobs().isEmpty() && two.warnings().getFirst().contains("several devices"), two.warnings().toString());
        assertEquals(Map.of("warps", 8), TuningDatabase.forTarget(dir, "cuda:sm_90", H200).knobs().entries().get(GEMV), "the device at hand's own");
        Path other = dir.resolve("other");
        TuningDatabase.save(other, new DeviceIdentity("sim", "kernel simulator for cuda:sm_90", "cuda:sm_90", "kernel simulator"), List.of(record(GEMV, Map.of("warps", 2), 1, 2)));
        assertTrue(TuningDatabase.forTarget(other, "cuda:sm_90", null).knobs().isEmpty(), "the simulator's knobs are for the simulator only");
    }

    @Test
    void anEntryARuleRefusesIsAWarningAndThatKernelsDefaults(@TempDir Path dir) throws Exception {
        ModelConfig c = new ModelConfig(Architecture.LLAMA, 300, 64, 128, 1, 4, 2, 16, 1e-5, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 32, false, false);
        CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), 8);
        Target t = Target.parse("cuda:sm_90");
        Build defaults = Build.compile(cm.graph(), t, Knobs.defaults(), 8);
        var gemv = defaults.decode().tunables().getFirst().space().signature();
        var attention = defaults.decode().tunables().stream().map(x -> x.space().signature()).filter(s -> s.kind().equals("attention_decode")).findFirst().orElseThrow();
        TuningDatabase.save(dir, H200, List.of(record(gemv.toString(), Map.of("warps", 3), 1, 2), record(attention.toString(), Map.of("splits", 4), 1, 2)));
        List<String> warnings = new ArrayList<>();
        Build b = TunedBuild.compile(cm.graph(), t, TuningDatabase.read(TuningDatabase.file(dir, H200), H200), 8, warnings::add);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.getFirst().contains(gemv.toString()) && warnings.getFirst().contains("warps=3"), warnings.getFirst());
        var chosen = b.decode().tunables().stream().collect(java.util.stream.Collectors.toMap(x -> x.space().signature(), x -> x.chosen()));
        assertEquals(defaults.decode().tunables().getFirst().chosen(), chosen.get(gemv), "the refused entry's kernel has its defaults");
        assertEquals(4, chosen.get(attention).get("splits"), "the other entry is used");
    }
}
