package jmlc.engine.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jmlc tune}: a run on the simulated GPU, its table and database, {@code --show}, and usage errors. */
class CliTuneTest {
    @TempDir
    Path tmp;
    private String before;

    @BeforeEach
    void ownDatabaseDirectory() {
        before = System.getProperty("jmlc.tuning");
        System.setProperty("jmlc.tuning", tmp.resolve("tuning").toString());
    }

    @AfterEach
    void restore() {
        if (before == null) System.clearProperty("jmlc.tuning");
        else System.setProperty("jmlc.tuning", before);
    }

    @Test
    void tunesOnTheSimulatorPrintsTheTableAndShowsTheDatabase() throws Exception {
        CliRun none = CliRun.run("tune", "--show");
        assertEquals(0, none.exit(), none.toString());
        assertTrue(none.out().startsWith("no tuning database in " + tmp.resolve("tuning")), none.toString());

        Path model = tmp.resolve("model"); // only its config is read
        jmlc.engine.format.hf.HfModelWriter.write(model, jmlc.engine.format.TinyModels.random(new jmlc.compiler.model.ModelConfig(jmlc.compiler.model.Architecture.LLAMA,
                300, 64, 128, 2, 4, 2, 16, 1e-5, 10000, new jmlc.compiler.ir.RopeSpec.Scaling.None(), jmlc.compiler.ir.RopeSpec.Style.HALF, 32, false, false), 3),
                jmlc.engine.format.tensor.TensorDType.F32, 1);
        CliRun r = CliRun.run("tune", model.toString(), "--device", "sim:cuda:sm_90", "--max-context", "32", "--kernels", "attention_decode", "--budget", "2m");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.outLines().getFirst().startsWith("kernel ") && r.outLines().getFirst().contains("default ms") && r.outLines().getFirst().contains("gain"), r.toString());
        assertTrue(r.outLines().get(1).startsWith("attention_decode_h4_kv2_d16_c32_f16@cuda:sm_90"), r.toString());
        assertTrue(r.out().contains("decode kernels tuned, times their uses a step"), r.toString());
        assertTrue(r.err().contains("[1/1] attention_decode_h4_kv2_d16_c32_f16"), "a line per kernel on stderr: " + r.err());
        Path db = tmp.resolve("tuning").resolve("sim-cuda_sm_90-kernel_simulator_for_cuda_sm_90.json");
        assertTrue(r.out().contains("database: " + db), r.toString());
        assertTrue(Files.readString(db).contains("\"attention_decode_h4_kv2_d16_c32_f16@cuda:sm_90\""));

        CliRun show = CliRun.run("tune", "--show");
        assertEquals(0, show.exit(), show.toString());
        assertTrue(show.out().startsWith(db + ": kernel simulator for cuda:sm_90"), show.toString());
        assertTrue(show.out().contains("attention_decode_h4_kv2_d16_c32_f16@cuda:sm_90") && show.out().contains("splits="), show.toString());

        // a corrupt database: a warning, the defaults, and the run goes on
        Files.writeString(db, "{oops");
        CliRun again = CliRun.run("tune", model.toString(), "--device", "sim:cuda:sm_90", "--max-context", "32", "--kernels", "attention_decode", "--budget", "1s");
        assertEquals(0, again.exit(), again.toString());
        assertTrue(again.err().contains("jmlc: warning: the tuning database " + db + " is not valid JSON"), again.toString());
    }

    /** An int8 cache's attention: its candidates pass the reference check within the int8 cache's bound and one is kept. */
    @Test
    void tunesTheAttentionOfAnInt8Cache() {
        CliRun r = CliRun.run("tune", "synthetic:tiny", "--device", "sim:cuda:sm_90", "--max-context", "32", "--kv-cache", "i8",
                "--kernels", "attention_decode", "--budget", "30s");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("attention_decode_h") && r.out().contains("_c32_i8@cuda:sm_90"), r.toString());
        assertFalse(r.out().contains("differs") || r.err().contains("differs"), "no candidate fails the reference check: " + r);
    }

    @Test
    void badOptionsAreUsageErrorsAndNothingToTuneIsAFailure() {
        CliRun noModel = CliRun.run("tune");
        assertEquals(2, noModel.exit(), noModel.toString());
        assertTrue(noModel.errorLines().getFirst().contains("MODEL is missing"), noModel.toString());
        CliRun budget = CliRun.run("tune", "synthetic:tiny", "--budget", "5 minutes");
        assertEquals(2, budget.exit(), budget.toString());
        assertTrue(budget.errorLines().getFirst().contains("expected a time such as 90s, 5m or 1h30m"), budget.toString());
        CliRun regex = CliRun.run("tune", "synthetic:tiny", "--kernels", "gemv[");
        assertEquals(2, regex.exit(), regex.toString());
        assertTrue(regex.errorLines().getFirst().contains("not a regular expression"), regex.toString());
        CliRun device = CliRun.run("tune", "synthetic:tiny", "--device", "tpu:0");
        assertEquals(2, device.exit(), device.toString());
        CliRun nothing = CliRun.run("tune", "synthetic:tiny", "--device", "sim:cuda:sm_90", "--kernels", "no_such_kernel");
        assertEquals(1, nothing.exit(), nothing.toString());
        assertTrue(nothing.errorLines().getFirst().contains("no kernel signature matches --kernels 'no_such_kernel'"), nothing.toString());
        CliRun reference = CliRun.run("tune", "synthetic:tiny", "--device", "cpu:ref");
        assertEquals(1, reference.exit(), reference.toString());
        assertTrue(reference.errorLines().getFirst().contains("cpu:ref has no kernels to tune"), reference.toString());
    }
}
