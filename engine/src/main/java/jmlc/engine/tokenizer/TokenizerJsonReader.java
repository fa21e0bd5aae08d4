package jmlc.engine.tokenizer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads tokenizer.json with Jackson's streaming parser: {@code model.vocab} (128k entries for
 * Llama-3) and {@code model.merges} (280k) go straight into a map and a list; everything else,
 * small, becomes a JSON tree. A full tree of Llama-3's file takes several times longer to build.
 */
final class TokenizerJsonReader {
    private TokenizerJsonReader() {}

    /** The file's tree without vocab and merges, which are returned alongside (merges as [a, b] or "a b" nodes' text). */
    record Parsed(JsonNode rest, Map<String, Integer> vocab, List<String[]> merges, boolean hasMerges) {}

    static Parsed read(ObjectMapper mapper, Path file) throws IOException {
        try (JsonParser p = mapper.createParser(file.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new TokenizerException(file.toString(), "(top level)", "a JSON object", String.valueOf(p.currentToken()));
            }
            ObjectNode rest = mapper.createObjectNode();
            Map<String, Integer> vocab = null;
            List<String[]> merges = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                if (!key.equals("model") || p.currentToken() != JsonToken.START_OBJECT) {
                    rest.set(key, mapper.readTree(p));
                    continue;
                }
                ObjectNode model = mapper.createObjectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    JsonToken t = p.nextToken();
                    if (field.equals("vocab") && t == JsonToken.START_OBJECT) {
                        vocab = new HashMap<>(1 << 18);
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            if (vocab.size() % Interruption.EVERY == 0) Interruption.check("reading " + file);
                            String token = p.currentName();
                            if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || p.getIntValue() < 0) {
                                throw new TokenizerException(file.toString(), "model.vocab." + token, "a non-negative integer id", p.getText());
                            }
                            vocab.put(token, p.getIntValue());
                        }
                        model.putObject("vocab");
                    } else if (field.equals("merges") && t == JsonToken.START_ARRAY) {
                        merges = new ArrayList<>(1 << 18);
                        while (p.nextToken() != JsonToken.END_ARRAY) {
                            if (merges.size() % Interruption.EVERY == 0) Interruption.check("reading " + file);
                            merges.add(merge(p, file, merges.size()));
                        }
                        model.putArray("merges");
                    } else {
                        model.set(field, mapper.readTree(p));
                    }
                }
                rest.set("model", model);
            }
            if (p.nextToken() != null) {
                throw new TokenizerException(file.toString(), "(json)", "valid JSON", p.currentToken() + " after the top-level object, at line "
                        + p.currentLocation().getLineNr() + ", column " + p.currentLocation().getColumnNr());
            }
            return new Parsed(rest, vocab, merges == null ? List.of() : merges, merges != null);
        }
    }

    /** One merge: "a b" (older files) or ["a", "b"] (newer ones, which allow spaces inside tokens). */
    private static String[] merge(JsonParser p, Path file, int rank) throws IOException {
        String where = "model.merges[" + rank + "]";
        if (p.currentToken() == JsonToken.VALUE_STRING) {
            String s = p.getText();
            int space = s.indexOf(' ');
            if (space < 0 || s.indexOf(' ', space + 1) >= 0) {
                throw new TokenizerException(file.toString(), where, "two tokens separated by one space", "\"" + s + "\"");
            }
            return new String[] {s.substring(0, space), s.substring(space + 1)};
        }
        if (p.currentToken() == JsonToken.START_ARRAY) {
            List<String> parts = new ArrayList<>(2);
            while (p.nextToken() == JsonToken.VALUE_STRING) parts.add(p.getText());
            if (p.currentToken() == JsonToken.END_ARRAY && parts.size() == 2) return parts.toArray(new String[0]);
        }
        throw new TokenizerException(file.toString(), where, "\"a b\" or [\"a\", \"b\"]", String.valueOf(p.currentToken()));
    }
}
