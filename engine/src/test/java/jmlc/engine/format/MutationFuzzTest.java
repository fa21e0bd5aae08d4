package jmlc.engine.format;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import jmlc.compiler.model.Architecture;
import jmlc.engine.format.gguf.GgufModelWriter;
import jmlc.engine.format.hf.HfModelWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorView;

/**
 * Valid files with random bytes of their headers changed, or cut at random lengths: opening
 * each either works or fails with a ModelFormatException; no other exception, no OutOfMemoryError.
 * Seeded, so a failure reproduces.
 */
class MutationFuzzTest {
    @TempDir
    Path dir;

    private int opened, rejected;

    private void openOrReject(Path p, String what) {
        try (Checkpoint ck = Checkpoints.open(p)) {
            // touch every tensor's first and last element: views must lie inside their mappings
            for (TensorView t : ck.tensors().values()) {
                if (t.numel() > 0) {
                    t.getFloat(0);
                    t.getFloat(t.numel() - 1);
                }
            }
            opened++;
        } catch (ModelFormatException e) {
            rejected++;
        } catch (Throwable e) {
            fail(what + " threw " + e, e);
        }
    }

    private void mutate(Path file, byte[] valid, int headerBytes, long seed, Path openPath) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        for (int round = 0; round < 300; round++) {
            byte[] b = valid.clone();
            String what;
            if (round % 4 == 3) {
                int len = rng.nextInt(valid.length);
                b = Arrays.copyOf(valid, len);
                what = "cut at " + len;
            } else {
                int n = 1 + rng.nextInt(4);
                StringBuilder sb = new StringBuilder("bytes");
                for (int i = 0; i < n; i++) {
                    int at = rng.nextInt(headerBytes);
                    b[at] = (byte) (rng.nextInt(3) == 0 ? 0xFF : rng.nextInt(256));
                    sb.append(' ').append(at);
                }
                what = sb.toString();
            }
            Files.write(file, b);
            openOrReject(openPath, file.getFileName() + " round " + round + " (" + what + ")");
        }
    }

    @Test
    void mutatedGgufFiles() throws IOException {
        Path f = dir.resolve("m.gguf");
        GgufModelWriter.write(f, TinyModels.random(TinyModels.config(Architecture.LLAMA), 1), GgufModelWriter.Options.of(TensorDType.Q8_0));
        byte[] valid = Files.readAllBytes(f);
        openOrReject(f, "the valid file");
        assertTrue(opened == 1, "the unmutated file opens");
        int header = Math.min(valid.length, 2048); // metadata and tensor infos of the tiny model
        mutate(f, valid, header, 42, f);
        assertTrue(rejected > 100, "most mutations are caught: " + rejected + " rejected, " + opened + " opened");
    }

    @Test
    void mutatedSafetensorsFiles() throws IOException {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.QWEN2), 2), TensorDType.BF16, 1);
        Path f = dir.resolve("model.safetensors");
        byte[] valid = Files.readAllBytes(f);
        openOrReject(dir, "the valid directory");
        assertTrue(opened == 1, "the unmutated directory opens");
        long headerLen = java.nio.ByteBuffer.wrap(valid, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        mutate(f, valid, (int) (8 + headerLen), 43, dir);
        assertTrue(rejected > 100, "most mutations are caught: " + rejected + " rejected, " + opened + " opened");
    }
}
