package jmlc.engine.api;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Set;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.quant.QuantMode;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.Checkpoints;
import jmlc.engine.format.TinyModels;
import jmlc.engine.format.gguf.GgufModelWriter;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.model.CheckpointWeights;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.Progress;
import jmlc.engine.sampling.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model file cut short while it is mapped makes reads of the missing pages fault; the JVM turns
 * that into an InternalError ("a fault occurred in an unsafe memory access operation"), which must
 * reach the user as the file having changed under jmlc (issue 14).
 */
class FileChangedTest {
    @TempDir
    Path dir;

    private static void truncate(Path f, long size) throws IOException {
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(size);
        }
    }

    private Path gguf(TensorDType type) {
        Path f = dir.resolve("m.gguf");
        GgufModelWriter.write(f, TinyModels.random(TinyModels.config(Architecture.LLAMA), 1), GgufModelWriter.Options.of(type));
        return f;
    }

    private static void assertNamesTheChange(Path f, RuntimeException e) {
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("changed"), e.getMessage());
    }

    @Test
    void whilePreparingWeights() throws IOException {
        Path f = gguf(TensorDType.Q8_0);
        try (Checkpoint ck = Checkpoints.open(f)) {
            CompiledModel m = CompiledModel.compile(ck.config(), QuantMode.Q4F16_1, 64, false, Set.of(), 16);
            truncate(f, 4096);
            try (CheckpointWeights w = new CheckpointWeights(ck, m.graph())) {
                assertNamesTheChange(f, assertThrows(ModelFormatException.class, () -> w.loadAll(Progress.NONE)));
            }
        }
    }

    @Test
    void whileGenerating() throws IOException {
        // F32 weights loaded as q0f32 stay in the file's mapping: the CPU runner reads them there at every step
        HostileModelDirs.withSilentTokenizer(dir, 0); // F32 safetensors; the tokenizer is not used here
        try (ChatModule cm = ChatModule.load(dir.toString(), LoadOptions.defaults().device("cpu").quant(QuantMode.Q0F32).chatTemplate("llama2"))) {
            GenerationConfig cfg = new GenerationConfig(4, SamplingParams.GREEDY, Set.of(), true);
            cm.generateTokens(new int[] {1, 2, 3}, cfg);
            truncate(dir.resolve("model.safetensors"), 4096);
            RuntimeException e = assertThrows(RuntimeException.class, () -> cm.generateTokens(new int[] {1, 2, 3}, cfg));
            assertNamesTheChange(dir, e);
        }
    }
}
