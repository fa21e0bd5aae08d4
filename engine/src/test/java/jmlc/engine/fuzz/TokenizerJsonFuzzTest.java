package jmlc.engine.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import jmlc.engine.tokenizer.TokenizerException;
import jmlc.engine.tokenizer.Tokenizers;
import org.junit.jupiter.api.Timeout;

/**
 * Any bytes as tokenizer.json: loading it, then encoding and decoding a few texts, either works
 * (every id inside the vocabulary) or fails with a TokenizerException naming the file and key,
 * within the timeout: regexes from the file run under a step budget. Inputs:
 * src/test/resources/jmlc/engine/fuzz/TokenizerJsonFuzzTestInputs/tokenizerJson.
 */
class TokenizerJsonFuzzTest {

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void tokenizerJson(byte[] data) {
        FuzzFiles.write("tokenizer.json", data);
        try {
            Texts.run(Tokenizers.load(FuzzFiles.dir()));
        } catch (TokenizerException expected) {
            // a clear rejection naming the file and key
        } catch (CancellationException stopped) {
            FuzzFiles.stoppedByInterrupt(stopped);
        }
    }
}
