package jmlc.magics.llm;

import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.TinyModels;
import jmlc.engine.format.hf.HfModelWriter;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.runtime.gpu.GpuRunner;
import jmlc.engine.tuning.TuningDatabase;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MimeBundle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** %tune: tunes the loaded model on its device (here the simulator), shows progress, a chart and a table, and loads the model again with the result. */
class TuneMagicTest {
    final Notebook nb = new Notebook();
    @TempDir
    Path tmp;
    private String before;

    @BeforeEach
    void ownDatabaseDirectory() {
        before = System.getProperty("jmlc.tuning");
        System.setProperty("jmlc.tuning", tmp.resolve("tuning").toString());
    }

    @AfterEach
    void close() {
        nb.close();
        if (before == null) System.clearProperty("jmlc.tuning");
        else System.setProperty("jmlc.tuning", before);
    }

    /** A tiny model as a Hugging Face directory, with a three-token tokenizer (the simulator runs little more). */
    Path model() throws java.io.IOException {
        Path dir = tmp.resolve("model");
        HfModelWriter.write(dir, TinyModels.random(new ModelConfig(Architecture.LLAMA, 300, 64, 128, 2, 4, 2, 16, 1e-5, 10000, new RopeSpec.Scaling.None(),
                RopeSpec.Style.HALF, 32, false, false), 5), TensorDType.F32, 1);
        java.nio.file.Files.writeString(dir.resolve("tokenizer.json"), """
                {"version": "1.0", "added_tokens": [], "normalizer": null,
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false},
                 "post_processor": null, "decoder": {"type": "ByteLevel"},
                 "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}
                """);
        return dir;
    }

    @Test
    void tunesTheLoadedModelShowsTheCandidatesAndReloadsIt() throws Exception {
        nb.run("%load '" + model() + "' --device sim:cuda:sm_90 --max-context 32 --template chatml");
        nb.out.clear();
        MimeBundle chart = nb.bundle("%tune --kernels attention_decode --budget 2m");
        BenchMagicTest.assertPng(chart);
        assertTrue(chart.text().contains("attention_decode ") && chart.text().contains("fastest"), chart.text());
        assertTrue(nb.updates().stream().anyMatch(b -> b.text().contains("(1/1 kernels)")), "the chart is drawn again as each kernel finishes");
        assertTrue(nb.updates().stream().anyMatch(b -> b.text().contains("attention_decode_h4_kv2_d16_c32_f16")), "the progress names the kernel");
        String table = nb.shown().stream().map(MimeBundle::text).filter(t -> t.contains("Tuned on")).findFirst().orElseThrow();
        assertTrue(table.contains("attention_decode_h4_kv2_d16_c32_f16@cuda:sm_90") && table.contains("knobs kept"), table);

        // the model was loaded again, with the database's knobs
        var db = TuningDatabase.files(tmp.resolve("tuning"));
        assertEquals(1, db.size());
        var record = TuningDatabase.read(db.getFirst(), null).records().getFirst();
        GpuRunner runner = (GpuRunner) Llm.model(nb.session).model().runner();
        var chosen = runner.decodeProgram().tunables().stream().filter(t -> t.space().signature().toString().equals(record.signature())).findFirst().orElseThrow();
        assertEquals(record.knobs(), chosen.chosen());

        nb.out.clear();
        nb.run("%tune --show");
        assertTrue(nb.shown().getFirst().text().contains(record.signature()), nb.shown().getFirst().text());
    }

    /** Where the device has dependent launches, %tune of the GEMVs ends with the decode-step stage, shown as text. */
    @Test
    void theDecodeStepStageRunsAndIsShown() throws Exception {
        nb.run("%load '" + model() + "' --device sim:cuda:sm_90 --max-context 32 --template chatml");
        nb.out.clear();
        nb.bundle("%tune --kernels gemvh --budget 5s --step-tokens 2 --no-reload");
        String stage = nb.shown().stream().map(MimeBundle::text).filter(t -> t.startsWith("decode step, whole model")).findFirst()
                .orElseThrow(() -> new AssertionError("no decode-step text among " + nb.shown()));
        assertTrue(stage.contains("as tuned per kernel") && stage.contains("as tuned, as dependents") && stage.contains("<- kept"), stage);
        assertNotNull(Llm.model(nb.session), "the model stays loaded");
    }

    @Test
    void badInputIsOneClearError() throws Exception {
        assertEquals(Llm.NO_MODEL, assertThrows(MagicException.class, () -> nb.run("%tune")).getMessage());
        nb.run("%load synthetic:tiny --max-context 64");
        assertTrue(assertThrows(MagicException.class, () -> nb.run("%tune --budget soon")).getMessage().startsWith("%tune: expected a time such as 90s"));
        assertTrue(assertThrows(MagicException.class, () -> nb.run("%tune --kernels gemv[")).getMessage().contains("is not a regular expression"));
        assertTrue(assertThrows(MagicException.class, () -> nb.run("%tune --kernels no_such_kernel")).getMessage().contains("no kernel signature matches"));
        assertThrows(MagicException.class, () -> nb.run("%tune --bogus"));
        nb.run("%reload --device cpu:ref");
        assertTrue(assertThrows(MagicException.class, () -> nb.run("%tune")).getMessage().contains("cpu:ref has no kernels to tune"));
        assertNotNull(Llm.model(nb.session), "the model stays loaded");
    }
}
