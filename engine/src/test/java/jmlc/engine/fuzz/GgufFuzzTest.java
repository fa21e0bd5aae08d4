package jmlc.engine.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.Checkpoints;
import jmlc.engine.format.GgufCheckpoint;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorView;
import jmlc.engine.tokenizer.Tokenizer;
import jmlc.engine.tokenizer.TokenizerException;
import jmlc.engine.tokenizer.Tokenizers;
import org.junit.jupiter.api.Timeout;

/**
 * Any bytes as a .gguf file: opening, checking against the config, touching every tensor and
 * building and running the embedded tokenizer either work or fail with a ModelFormatException or
 * a TokenizerException, within the timeout (Jazzer's per-input limit when fuzzing), without
 * running out of memory. Inputs: src/test/resources/jmlc/engine/fuzz/GgufFuzzTestInputs/gguf
 * (tiny models, and the files of issue 14's failures).
 */
class GgufFuzzTest {

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void gguf(byte[] data) {
        Path f = FuzzFiles.write("m.gguf", data);
        try (Checkpoint ck = Checkpoints.openUnchecked(f)) {
            for (TensorView t : ck.tensors().values()) {
                if (t.numel() > 0) {
                    t.getFloat(0);
                    t.getFloat(t.numel() - 1);
                }
            }
            try {
                ck.validate();
            } catch (ModelFormatException incomplete) {
                // the tokenizer is still worth running
            }
            if (ck instanceof GgufCheckpoint g) Texts.run(Tokenizers.fromGguf(g.metadata(), f.toString()));
        } catch (ModelFormatException | TokenizerException expected) {
            // a clear rejection naming the file: what hostile input should get
        } catch (CancellationException stopped) {
            FuzzFiles.stoppedByInterrupt(stopped);
        }
    }
}
