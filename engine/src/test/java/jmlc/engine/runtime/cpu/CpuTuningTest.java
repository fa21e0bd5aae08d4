package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.tune.Measurement;
import jmlc.compiler.tune.TaskResult;
import jmlc.compiler.tune.Tuner;
import jmlc.compiler.tune.TuningRecord;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.api.ModelTuning;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.Checkpoints;
import jmlc.engine.format.TinyModels;
import jmlc.engine.format.hf.HfModelWriter;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.model.CheckpointWeights;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.Progress;
import jmlc.engine.runtime.DeviceIdentity;
import jmlc.engine.tuning.TuningDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The CPU's matmul knobs through the same path as a GPU's: declared spaces, checked candidates, the CPU's database, read when loading. */
class CpuTuningTest {

    static ModelConfig config() {
        return new ModelConfig(Architecture.LLAMA, 300, 64, 128, 2, 4, 2, 16, 1e-5, 10000, new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 32, false, false);
    }

    @Test
    void tunedKnobsGoToTheCpusDatabaseAndTheNextLoadUsesThem(@TempDir Path dir) throws Exception {
        String before = System.getProperty("jmlc.tuning");
        System.setProperty("jmlc.tuning", dir.resolve("tuning").toString());
        ModelConfig c = config();
        Path model = dir.resolve("model");
        HfModelWriter.write(model, TinyModels.random(c, 7), TensorDType.F32, 1);
        try {
            List<TaskResult> results = new ArrayList<>();
            var opts = new ModelTuning.Options(Duration.ofMinutes(2), "_64x64@", 8, 8, 1, 0);
            ModelTuning.Result r = ModelTuning.tune(model.toString(), LoadOptions.defaults().device("cpu").maxContext(32), opts, new Tuner.Listener() {
                @Override
                public void taskFinished(TaskResult t, int done, int of) {
                    results.add(t);
                }
            }, Progress.NONE);
            assertEquals(Set.of("cpu_gemv", "cpu_gemm"), Set.copyOf(results.stream().map(t -> t.task().signature().kind()).toList()));
            for (TaskResult t : results) {
                assertTrue(t.exhausted(), t.task() + ": small spaces are measured whole");
                for (Measurement m : t.all()) {
                    var timed = assertInstanceOf(Measurement.Timed.class, m, "every candidate passes its check against the reference: " + m);
                    assertTrue(timed.relError() < 1e-4 && timed.ms() > 0, m.toString());
                }
            }
            List<TuningRecord> records = TuningDatabase.read(r.database(), null).records();
            assertEquals(2, records.size());
            DeviceIdentity id = TuningDatabase.identity(r.database());
            assertTrue(id.target().startsWith("cpu:"), id.toString());

            // the next load runs each 64x64 matmul with the database's values
            CpuBackend backend = new CpuBackend();
            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), 8);
            try (Checkpoint ck = Checkpoints.open(model); CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                 CpuRunner runner = (CpuRunner) backend.load(cm, w, backend.detect().getFirst(), Progress.NONE)) {
                TuningRecord gemv = records.stream().filter(x -> x.signature().startsWith("cpu_gemv")).findFirst().orElseThrow();
                TuningRecord gemm = records.stream().filter(x -> x.signature().startsWith("cpu_gemm")).findFirst().orElseThrow();
                int checked = 0;
                for (Node n : cm.graph().nodes()) {
                    if (!CpuKnobs.isMatmul(n) || !CpuKnobs.shape(MatmulParts.of(n).w()).endsWith("_64x64")) continue;
                    CpuKnobs.Matmul k = runner.knobs().get(n);
                    assertEquals(new CpuKnobs.Matmul(gemv.knobs().get("tasks_per_thread"), gemv.knobs().get("split_rows"), gemm.knobs().get("tile_rows")), k, n.toString());
                    checked++;
                }
                assertTrue(checked > 0);
            }

            // a value the kernel cannot use is a warning, and the defaults
            TuningDatabase.save(dir.resolve("tuning"), id, List.of(new TuningRecord(records.get(0).signature().replace("cpu_gemv", "cpu_gemm"), Map.of("tile_rows", 3),
                    1, 1, 1, 0, false, "", 1, "", "")));
            List<String> warnings = new ArrayList<>();
            Progress collect = new Progress() {
                public void update(String stage, long done, long total) {
                }

                public void warn(String message) {
                    warnings.add(message);
                }
            };
            try (Checkpoint ck = Checkpoints.open(model); CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                 CpuRunner runner = (CpuRunner) backend.load(cm, w, backend.detect().getFirst(), collect)) {
                assertFalse(warnings.isEmpty());
                assertTrue(warnings.getFirst().contains("tile_rows=3"), warnings.toString());
                for (Node n : cm.graph().nodes())
                    if (CpuKnobs.isMatmul(n) && CpuKnobs.shape(MatmulParts.of(n).w()).endsWith("_64x64"))
                        assertEquals(CpuKnobs.Matmul.DEFAULTS.tileRows(), runner.knobs().get(n).tileRows());
                var out = runner.forward(new int[] {1, 2, 3}, 0);
                assertTrue(out.length > 0 && Float.isFinite(out[0]));
            }
        } finally {
            if (before == null) System.clearProperty("jmlc.tuning");
            else System.setProperty("jmlc.tuning", before);
        }
    }
}
