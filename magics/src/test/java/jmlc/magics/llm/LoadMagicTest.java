package jmlc.magics.llm;

import jmlc.compiler.model.Architecture;
import jmlc.engine.api.ChatModule;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.TinyModels;
import jmlc.engine.format.hf.HfModelWriter;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MimeBundle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** %device, %load and %reload as a notebook uses them, and every way a load can fail. */
class LoadMagicTest {

    final Notebook nb = new Notebook();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        nb.close();
    }

    @Test
    void deviceListsTheDevicesAndChoosesOne() throws Exception {
        MimeBundle list = nb.bundle("%device");
        assertTrue(list.text().contains("cpu:ref"), list.text());
        assertTrue(list.text().matches("(?s)\\* cpu .*"), "auto marks the first device: " + list.text());
        String html = (String) list.data().get(MimeBundle.HTML);
        assertTrue(html.contains("<th style=\"text-align:left\">backend</th>") && html.contains("cores: "), html);
        for (var b : jmlc.engine.api.Backends.all()) // a backend without devices says why (here: no NVIDIA driver)
            if (b.detect().isEmpty()) assertTrue(list.text().contains("no " + b.name() + " device: " + b.unavailable()), list.text());

        nb.run("%device cpu:ref");
        assertEquals("cpu:ref", nb.session.get(Llm.DEVICE).orElseThrow());
        assertTrue(nb.out.stdout().contains("Later %load commands use cpu:ref."), nb.out.stdout());
        assertTrue(nb.bundle("%device").text().contains("* cpu:ref"));
        nb.run("%load synthetic:tiny");
        assertEquals("cpu:ref", Llm.model(nb.session).model().runner().device().id(), "%load uses the chosen device");

        var e = assertThrows(MagicException.class, () -> nb.run("%device cuda:7"));
        assertTrue(e.getMessage().startsWith("%device: no device 'cuda:7' here: found cpu, cpu:ref; cuda: "), "names what was found and why CUDA found nothing: " + e.getMessage());
        assertEquals("cpu:ref", nb.session.get(Llm.DEVICE).orElseThrow(), "a bad id changes nothing");
    }

    @Test
    void loadShowsProgressThenASummaryAndPutsTheModelInTheSession() throws Exception {
        MimeBundle summary = nb.bundle("%load synthetic:tiny --max-context 256");
        assertTrue(summary.text().startsWith("Loaded synthetic:tiny"), summary.text());
        for (String part : new String[]{"llama: 4 layers, hidden 256", "256 tokens (the model's window: 2048)", "q4f16_1",
                "cpu (", "MiB read per decode step", "llama2: synthetic models have no template"}) {
            assertTrue(summary.text().contains(part), part + " in " + summary.text());
        }
        // the progress display: shown once, then updated in place with every stage, ending "loaded"
        MimeBundle first = nb.shown().getFirst();
        assertTrue(first.text().startsWith("Loading synthetic:tiny (device auto, quant the model's own, max context 256)"), first.text());
        String last = nb.updates().getLast().text();
        for (String stage : new String[]{"compiling graph (q4f16_1)", "making random weights", "loading onto cpu", "loaded ("}) {
            assertTrue(last.contains(stage), stage + " in " + last);
        }
        assertTrue(last.contains("done making random weights"), last);
        ChatModule cm = Llm.model(nb.session);
        assertEquals(256, cm.model().runner().maxContext());
        assertEquals("synthetic:tiny", nb.session.get(Llm.LAST_LOAD).orElseThrow().spec());
    }

    @Test
    void loadReplacesTheModelInPlaceAndReloadKeepsTheOptions() throws Exception {
        nb.run("%load synthetic:tiny --quant q0f32 --device cpu:ref --max-context 128 --disable-pass FuseAddRmsNorm");
        ChatModule cm = Llm.model(nb.session);
        var before = cm.model();
        nb.run("%reload --quant q4f32_1");
        assertSame(cm, Llm.model(nb.session), "the same ChatModule: cells holding Jmlc.model() see the new model");
        assertFalse(before == cm.model());
        assertEquals("q4f32_1", cm.model().quant().id());
        assertEquals("cpu:ref", cm.model().runner().device().id());
        assertEquals(128, cm.model().runner().maxContext());
        assertEquals(Set.of("FuseAddRmsNorm"), cm.options().disabledPasses());
        nb.run("%reload --disable-pass none");
        assertEquals(Set.of(), cm.options().disabledPasses());
        assertEquals("q4f32_1", cm.model().quant().id());
        // the KV cache's type: the quantization's (f32 for q4f32_1) until --kv-cache names one, then kept by %reload
        assertEquals(jmlc.compiler.ir.DType.F32, cm.model().compiled().graph().states().getFirst().type().dtype());
        MimeBundle summary = nb.bundle("%reload --kv-cache i8");
        assertEquals(jmlc.compiler.ir.DType.I8, cm.model().compiled().graph().states().getFirst().type().dtype());
        assertTrue(summary.text().contains("KV cache       i8, "), summary.text());
        nb.run("%reload --quant q4f16_1");
        assertEquals(jmlc.compiler.ir.DType.I8, cm.model().compiled().graph().states().getFirst().type().dtype());
    }

    @Test
    void reloadBeforeAnyLoadSaysWhatToDo() {
        var e = assertThrows(MagicException.class, () -> nb.run("%reload"));
        assertEquals("%reload: nothing was loaded yet: run %load MODEL first (e.g. %load synthetic:tiny)", e.getMessage());
    }

    /** Each bad load is one clear message, and the model loaded before stays loaded and usable. */
    @Test
    void badLoadsAreOneClearErrorAndThePreviousModelStays() throws Exception {
        nb.run("%load synthetic:tiny --max-context 64");
        ChatModule cm = Llm.model(nb.session);
        var loaded = cm.model();
        Path broken = Files.createDirectories(dir.resolve("broken"));
        Files.writeString(broken.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"]");
        String[][] cases = {
                {"%load synthetic:nope", "%load: cannot load synthetic:nope: unknown synthetic model 'synthetic:nope': expected one of synthetic:tiny, "},
                {"%load /no/such/model", "%load: cannot load /no/such/model: model '/no/such/model' not found: expected a model directory, a .gguf file, or synthetic:NAME"},
                {"%load synthetic:tiny --quant q3", "%load: unknown quantization 'q3': expected one of q4f16_1, "},
                {"%load synthetic:tiny --disable-pass NoSuchPass", "%load: cannot load synthetic:tiny: no pass named 'NoSuchPass' to disable: passes are ["},
                {"%load synthetic:tiny --template vicuna", "%load: unknown chat template 'vicuna': expected one of llama2, llama3, chatml, mistral"},
                {"%load synthetic:tiny --kv-cache q4", "%load: unknown KV cache type 'q4': expected f32, f16 or i8"},
                {"%load synthetic:tiny --max-context 99999", "%load: cannot load synthetic:tiny: max context 99999 exceeds the model's context window of 2048"},
                {"%load synthetic:tiny --device cuda:3", "%load: cannot load synthetic:tiny: no device 'cuda:3' here: found cpu, cpu:ref"},
                {"%load synthetic:tiny --max-context -1", "%load: --max-context must be a positive number of positions, found -1 (leave it out for the model's window, at most 4096)"},
                {"%load synthetic:tiny --max-context 0", "%load: --max-context must be a positive number of positions, found 0 (leave it out for the model's window, at most 4096)"},
                {"%load synthetic:tiny --max-context many", "%load: Invalid value for option '--max-context': 'many' is not an int"},
                {"%load", "%load: Missing required parameter: 'MODEL'"},
                {"%load " + broken, "%load: cannot load " + broken + ": " + broken.resolve("config.json")},
        };
        for (String[] c : cases) {
            var e = assertThrows(MagicException.class, () -> nb.run(c[0]), c[0]);
            assertTrue(e.getMessage().startsWith(c[1]), c[0] + " -> " + e.getMessage());
            assertSame(cm, Llm.model(nb.session), c[0]);
            assertSame(loaded, cm.model(), c[0] + ": the previous model stays");
        }
        assertEquals("synthetic:tiny", nb.session.get(Llm.LAST_LOAD).orElseThrow().spec());
        cm.setMaxReplyTokens(4);
        assertNotNull(cm.chat("still there?"));
        assertEquals(2, cm.conversation().size());
    }

    /** A real-format model (Hugging Face directory) loads; a bad tokenizer.json is one clear error. */
    @Test
    void huggingFaceDirectoryLoadsAndABadTokenizerIsAClearError() throws Exception {
        Path model = dir.resolve("tiny-llama");
        HfModelWriter.write(model, TinyModels.random(TinyModels.config(Architecture.LLAMA), 7), TensorDType.F32, 1);
        Files.writeString(model.resolve("tokenizer.json"), """
                {"version": "1.0", "added_tokens": [], "normalizer": null,
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false},
                 "post_processor": null, "decoder": {"type": "ByteLevel"},
                 "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}
                """);
        MimeBundle summary = nb.bundle("%load '" + model + "' --template chatml");
        assertTrue(summary.text().contains("chatml: named by the user"), summary.text());
        assertTrue(summary.text().contains("2 layers, hidden 64"), summary.text());
        ChatModule cm = Llm.model(nb.session);
        var loaded = cm.model();

        Path badTokenizer = dir.resolve("bad-tokenizer");
        HfModelWriter.write(badTokenizer, TinyModels.random(TinyModels.config(Architecture.LLAMA), 7), TensorDType.F32, 1);
        Files.writeString(badTokenizer.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Unigram\"}}");
        var e = assertThrows(MagicException.class, () -> nb.run("%load " + badTokenizer));
        assertTrue(e.getMessage().startsWith("%load: cannot load " + badTokenizer + ": " + badTokenizer.resolve("tokenizer.json")), e.getMessage());
        assertTrue(e.getMessage().endsWith("The previously loaded model stays loaded."), e.getMessage());
        assertSame(loaded, cm.model());
    }

    /** The stop button during a load ends it; the model loaded before stays. */
    @Test
    void interruptingALoadKeepsThePreviousModel() throws Exception {
        nb.run("%load synthetic:tiny --max-context 64");
        var loaded = Llm.model(nb.session).model();
        var error = new AtomicReference<Throwable>();
        Thread cell = new Thread(() -> {
            try {
                nb.run("%load synthetic:tinyllama-1.1b --quant q0f32 --max-context 64");
            } catch (Throwable t) {
                error.set(t);
            }
        });
        cell.start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (nb.updates().stream().noneMatch(b -> b.text().contains("making random weights")) && System.nanoTime() < deadline) Thread.sleep(5);
        cell.interrupt();
        cell.join(60_000);
        assertFalse(cell.isAlive());
        assertTrue(error.get() instanceof InterruptedException, String.valueOf(error.get()));
        assertSame(loaded, Llm.model(nb.session).model());
        assertTrue(nb.updates().getLast().text().contains("interrupted: the previous model stays loaded"), nb.updates().getLast().text());
    }
}
