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
import jmlc.engine.format.hf.HfModelWriter;
import jmlc.engine.format.safetensors.SafetensorsWriter;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorDType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A FIFO (or any other non-regular file) where a model file belongs is refused before it is opened:
 * opening a FIFO blocks until a writer comes, which no stop button can end (issue 14). A symbolic
 * link to a regular file is fine.
 */
class NotARegularFileTest {
    @TempDir
    Path dir;

    private static Path fifo(Path p) throws IOException, InterruptedException {
        Process mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
        if (mk.waitFor() != 0) throw new IOException("mkfifo " + p + " failed");
        return p;
    }

    /** Expects a quick ModelFormatException; if the open blocked instead, a writer unblocks it so the JVM can end. */
    private static void expectRefused(Path open, Path fifo, String... fragments) throws Exception {
        try {
            ModelFormatException e = assertTimeoutPreemptively(Duration.ofSeconds(5),
                    () -> assertThrows(ModelFormatException.class, () -> Checkpoints.open(open).close()));
            assertTrue(e.getMessage().contains(fifo.toString()), "names the FIFO: " + e.getMessage());
            for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
        } catch (AssertionError failed) {
            new ProcessBuilder("timeout", "2", "sh", "-c", ": > '" + fifo + "'").start().waitFor();
            throw failed;
        }
    }

    @Test
    void fifoAsTheModelPath() throws Exception {
        Path f = fifo(dir.resolve("model.gguf"));
        expectRefused(f, f, "not a regular file");
        Path g = fifo(dir.resolve("weights"));
        expectRefused(g, g, "not a regular file");
    }

    @Test
    void fifoAsTheShardIndex() throws Exception {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.LLAMA), 1), TensorDType.F16, 1);
        Path index = fifo(dir.resolve(SafetensorsWriter.INDEX_FILE));
        expectRefused(dir, index, "not a regular file");
    }

    @Test
    void fifoAsConfigJson() throws Exception {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.LLAMA), 1), TensorDType.F16, 1);
        Files.delete(dir.resolve("config.json"));
        Path config = fifo(dir.resolve("config.json"));
        expectRefused(dir, config, "not a regular file");
    }

    @Test
    void symlinkToARegularFileOpens() throws IOException {
        Path real = dir.resolve("real.gguf");
        GgufModelWriter.write(real, TinyModels.random(TinyModels.config(Architecture.LLAMA), 1), GgufModelWriter.Options.of(TensorDType.F16));
        Path link = Files.createSymbolicLink(dir.resolve("link.gguf"), real);
        Checkpoints.open(link).close();
    }
}
