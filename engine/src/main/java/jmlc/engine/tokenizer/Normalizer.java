package jmlc.engine.tokenizer;

import java.util.List;

/**
 * tokenizer.json {@code normalizer}: rewrites each piece of text between added tokens before
 * pre-tokenization. Llama-2/Mistral use {@code Sequence[Prepend("▁"), Replace(" ", "▁")]},
 * Qwen uses {@code NFC}, Llama-3 has none.
 */
sealed interface Normalizer {

    String apply(String text);

    /** {@code Prepend}: adds the string in front, except to an empty piece (HF skips empty input). */
    record Prepend(String prepend) implements Normalizer {
        public String apply(String text) {
            return text.isEmpty() ? text : prepend + text;
        }
    }

    /** {@code Replace}: every match of {@code pattern} ({"String": ...} or {"Regex": ...}) becomes {@code content}. */
    record Replace(SplitPattern pattern, String content) implements Normalizer {
        public String apply(String text) {
            return pattern.replaceAll(text, content);
        }
    }

    /** {@code NFC}, {@code NFD}, {@code NFKC}, {@code NFKD}. */
    record Unicode(java.text.Normalizer.Form form) implements Normalizer {
        public String apply(String text) {
            return java.text.Normalizer.normalize(text, form);
        }
    }

    /** {@code Lowercase}: Unicode lower-casing, as Rust's {@code str::to_lowercase}. */
    record Lowercase() implements Normalizer {
        public String apply(String text) {
            return text.toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** {@code Strip}: removes white space (Unicode White_Space) on the {@code left} and/or {@code right}. */
    record Strip(boolean left, boolean right) implements Normalizer {
        public String apply(String text) {
            int start = 0, end = text.length();
            while (left && start < end && Chars.isWhiteSpace(text.codePointAt(start))) start += Character.charCount(text.codePointAt(start));
            while (right && end > start && Chars.isWhiteSpace(text.codePointBefore(end))) end -= Character.charCount(text.codePointBefore(end));
            return text.substring(start, end);
        }
    }

    /** {@code Sequence}: {@code normalizers} in order. */
    record Sequence(List<Normalizer> normalizers) implements Normalizer {
        public String apply(String text) {
            for (Normalizer n : normalizers) text = n.apply(text);
            return text;
        }
    }

    /** Reads a tokenizer.json {@code normalizer} object (null/absent: none). */
    static Normalizer parse(JsonAt json) {
        if (!json.isPresent()) return new Sequence(List.of());
        String type = json.string("type");
        return switch (type) {
            case "Prepend" -> new Prepend(json.string("prepend"));
            case "Replace" -> new Replace(SplitPattern.parse(json.get("pattern")), json.string("content"));
            case "NFC" -> new Unicode(java.text.Normalizer.Form.NFC);
            case "NFD" -> new Unicode(java.text.Normalizer.Form.NFD);
            case "NFKC" -> new Unicode(java.text.Normalizer.Form.NFKC);
            case "NFKD" -> new Unicode(java.text.Normalizer.Form.NFKD);
            case "Lowercase" -> new Lowercase();
            case "Strip" -> new Strip(json.bool("strip_left", true), json.bool("strip_right", true));
            case "Sequence" -> new Sequence(json.get("normalizers").elements().stream().map(Normalizer::parse).toList());
            default -> throw json.get("type").error(
                    "a supported normalizer (Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip, Sequence)",
                    "\"" + type + "\"");
        };
    }
}
