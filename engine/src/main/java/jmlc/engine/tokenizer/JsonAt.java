package jmlc.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A JSON node together with the file and path it was read from, so that every error names
 * both: {@code tokenizer.json: pre_tokenizer.pretokenizers[1].type: expected ..., found ...}.
 */
record JsonAt(String file, String path, JsonNode node) {

    /** A child; missing children are {@code MissingNode}s, so optional reads stay simple. */
    JsonAt get(String key) {
        return new JsonAt(file, path.isEmpty() ? key : path + "." + key, node.path(key));
    }

    boolean isPresent() {
        return !node.isMissingNode() && !node.isNull();
    }

    List<JsonAt> elements() {
        if (!node.isArray()) throw error("an array", describe());
        List<JsonAt> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) out.add(new JsonAt(file, path + "[" + i + "]", node.get(i)));
        return out;
    }

    String string() {
        if (!node.isTextual()) throw error("a string", describe());
        return node.textValue();
    }

    String string(String key) {
        return get(key).string();
    }

    Optional<String> optString(String key) {
        JsonAt child = get(key);
        return child.isPresent() ? Optional.of(child.string()) : Optional.empty();
    }

    boolean bool(String key, boolean absent) {
        JsonAt child = get(key);
        if (!child.isPresent()) return absent;
        if (!child.node.isBoolean()) throw child.error("true or false", child.describe());
        return child.node.booleanValue();
    }

    int integer() {
        if (!node.canConvertToInt() || !node.isIntegralNumber()) throw error("an integer", describe());
        return node.intValue();
    }

    int integer(String key) {
        return get(key).integer();
    }

    /** A single character, as tokenizer.json spells Metaspace's {@code replacement} or Strip's {@code content}. */
    String character(String key) {
        String s = string(key);
        if (s.codePointCount(0, s.length()) != 1) throw get(key).error("one character", "\"" + s + "\"");
        return s;
    }

    TokenizerException error(String expected, String found) {
        return new TokenizerException(file, path.isEmpty() ? "(top level)" : path, expected, found);
    }

    /** How a found value reads in an error message. */
    String describe() {
        if (node.isMissingNode()) return "nothing (key absent)";
        if (node.isNull()) return "null";
        String text = node.toString();
        return text.length() > 80 ? text.substring(0, 77) + "..." : text;
    }
}
