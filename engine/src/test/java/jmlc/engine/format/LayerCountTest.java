package jmlc.engine.format;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import jmlc.compiler.model.Architecture;
import jmlc.engine.format.gguf.GgufModelWriter;
import jmlc.engine.format.hf.HfConfig;
import jmlc.engine.format.hf.HfModelWriter;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorDType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A config that claims more (or fewer) layers than the file holds tensors for is refused at once,
 * before a graph is built for every claimed layer (issue 14: 4096 layers took 15-19 s to fail,
 * 2^31-1 did not return).
 */
class LayerCountTest {
    @TempDir
    Path dir;

    private static final Duration QUICK = Duration.ofSeconds(5);

    private static void expectRefused(Path p, String... fragments) {
        ModelFormatException e = assertTimeoutPreemptively(QUICK, () -> assertThrows(ModelFormatException.class, () -> Checkpoints.open(p).close()));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(longs = {4096, Integer.MAX_VALUE, 1})
    void ggufBlockCountBeyondTheTensors(long layers) throws IOException {
        Path f = dir.resolve("m.gguf");
        GgufModelWriter.write(f, TinyModels.random(TinyModels.config(Architecture.LLAMA), 1), GgufModelWriter.Options.of(TensorDType.F16));
        FileBytes.of(f).patchU32Key("llama.block_count", layers);
        expectRefused(f, f.toString(), "llama.block_count", layers + " layers", "tensors for 2 layers");
    }

    @ParameterizedTest
    @ValueSource(ints = {4096, Integer.MAX_VALUE, 1})
    void hfNumHiddenLayersBeyondTheTensors(int layers) throws IOException {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.QWEN2), 2), TensorDType.F16, 1);
        Path config = dir.resolve(HfConfig.FILE);
        String json = Files.readString(config);
        Files.writeString(config, json.replaceFirst("\"num_hidden_layers\" : 2", "\"num_hidden_layers\" : " + layers));
        expectRefused(dir, "num_hidden_layers", layers + " layers", "tensors for 2 layers");
    }
}
