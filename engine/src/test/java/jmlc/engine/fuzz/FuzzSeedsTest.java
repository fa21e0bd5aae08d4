package jmlc.engine.fuzz;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.Checkpoints;
import jmlc.engine.format.GgufCheckpoint;
import jmlc.engine.format.safetensors.SafetensorsHeader;
import jmlc.engine.format.tensor.FileMapping;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.tokenizer.TokenizerException;
import jmlc.engine.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed seeds are what the fuzzers should start from: the valid ones load whole (so
 * mutations reach the tokenizer and the tensor checks), and issue 14's files are each refused.
 */
class FuzzSeedsTest {
    static final Path INPUTS = Path.of("src/test/resources/jmlc/engine/fuzz");

    private static List<Path> files(String dir, String prefix) throws IOException {
        try (Stream<Path> s = Files.list(INPUTS.resolve(dir))) {
            List<Path> l = s.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().toList();
            assertTrue(!l.isEmpty(), "no " + prefix + "* seeds in " + dir);
            return l;
        }
    }

    @Test
    void validGgufSeedsLoadWithTheirTokenizers() throws IOException {
        for (Path f : files("GgufFuzzTestInputs/gguf", "tiny-")) {
            try (Checkpoint ck = Checkpoints.open(f)) {
                Texts.run(Tokenizers.fromGguf(((GgufCheckpoint) ck).metadata(), f.toString()));
            }
        }
    }

    @Test
    void validSafetensorsSeedsParse() throws IOException {
        for (Path f : Stream.concat(files("SafetensorsFuzzTestInputs/header", "tiny-").stream(), files("SafetensorsFuzzTestInputs/header", "two-").stream()).toList()) {
            try (Arena arena = Arena.ofConfined()) {
                var bytes = FileMapping.map(f, arena, "a seed");
                SafetensorsHeader.parse(f, bytes).views(bytes);
            }
        }
    }

    @Test
    void validTokenizerSeedsLoadAndRun(@TempDir Path dir) throws IOException {
        for (Path f : files("TokenizerJsonFuzzTestInputs/tokenizerJson", "")) {
            if (f.getFileName().toString().startsWith("issue14-")) continue;
            Files.copy(f, dir.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Texts.run(Tokenizers.load(dir));
        }
    }

    @Test
    void issue14FilesAreEachRefused(@TempDir Path dir) throws IOException {
        for (Path f : files("GgufFuzzTestInputs/gguf", "issue14-")) {
            if (f.getFileName().toString().contains("large-metadata-array")) continue; // a valid header: its arrays are what is measured
            assertThrows(ModelFormatException.class, () -> {
                try (Checkpoint ck = Checkpoints.open(f)) {
                    Tokenizers.fromGguf(((GgufCheckpoint) ck).metadata(), f.toString());
                }
            }, f.toString());
        }
        for (Path f : files("SafetensorsFuzzTestInputs/header", "issue14-")) {
            assertThrows(ModelFormatException.class, () -> {
                try (Arena arena = Arena.ofConfined()) {
                    SafetensorsHeader.parse(f, FileMapping.map(f, arena, "a seed"));
                }
            }, f.toString());
        }
        for (Path f : files("TokenizerJsonFuzzTestInputs/tokenizerJson", "issue14-")) {
            Files.copy(f, dir.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            assertThrows(TokenizerException.class, () -> Texts.run(Tokenizers.load(dir)), f.toString());
        }
    }
}
