package jmlc.engine.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import jmlc.engine.format.safetensors.SafetensorsHeader;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorView;
import org.junit.jupiter.api.Timeout;

/**
 * Any bytes as a safetensors file: the header parses and every tensor view lies inside the data,
 * or a ModelFormatException names the file. Parsed from memory (the reader takes the mapping), so
 * tens of thousands of inputs a second. Inputs: src/test/resources/jmlc/engine/fuzz/SafetensorsFuzzTestInputs/header.
 */
class SafetensorsFuzzTest {
    private static final Path NAME = Path.of("fuzz.safetensors");

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void header(byte[] data) {
        MemorySegment bytes = MemorySegment.ofArray(data);
        try {
            for (TensorView t : SafetensorsHeader.parse(NAME, bytes).views(bytes).values()) {
                if (t.numel() > 0) {
                    t.getFloat(0);
                    t.getFloat(t.numel() - 1);
                }
            }
        } catch (ModelFormatException expected) {
            // a clear rejection naming the file
        } catch (CancellationException stopped) {
            FuzzFiles.stoppedByInterrupt(stopped);
        }
    }
}
