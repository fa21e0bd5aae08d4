package jmlc.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * tokenizer.json {@code decoder}: turns the token strings of an id sequence back into text.
 * Like HF's {@code decode_chain}, each step maps a list of strings to a list of strings; the
 * result is their concatenation. SentencePiece files use
 * {@code Sequence[Replace("▁", " "), ByteFallback, Fuse, Strip(" ", 1, 0)]}, byte-level ones {@code ByteLevel}.
 */
sealed interface Decoder {

    List<String> decodeChain(List<String> tokens);

    default String decode(List<String> tokens) {
        return String.join("", decodeChain(tokens));
    }

    /** {@code Replace}: pattern matches in every token become {@code content}. */
    record Replace(SplitPattern pattern, String content) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            return tokens.stream().map(t -> pattern.replaceAll(t, content)).toList();
        }
    }

    /**
     * {@code ByteFallback}: runs of {@code <0xXX>} tokens become the text of their bytes; an
     * invalid run becomes one U+FFFD per byte (HF's rule, not lossy UTF-8 decoding).
     */
    record ByteFallback() implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            ByteArrayOutputStream pending = new ByteArrayOutputStream();
            for (String t : tokens) {
                int b = byteToken(t);
                if (b >= 0) {
                    pending.write(b);
                    continue;
                }
                flush(pending, out);
                out.add(t);
            }
            flush(pending, out);
            return out;
        }

        private static void flush(ByteArrayOutputStream pending, List<String> out) {
            if (pending.size() == 0) return;
            byte[] bytes = pending.toByteArray();
            if (Utf8.isValid(bytes)) out.add(new String(bytes, StandardCharsets.UTF_8));
            else for (int i = 0; i < bytes.length; i++) out.add(String.valueOf(Utf8.REPLACEMENT));
            pending.reset();
        }

        /** The byte of a token spelled {@code <0xXX>}, or -1. */
        static int byteToken(String t) {
            if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') return -1;
            int hi = Character.digit(t.charAt(3), 16), lo = Character.digit(t.charAt(4), 16);
            return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
        }
    }

    /** {@code Fuse}: all tokens become one string. */
    record Fuse() implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            return List.of(String.join("", tokens));
        }
    }

    /** {@code Strip}: removes up to {@code start} leading and {@code stop} trailing {@code content} characters of each token. */
    record Strip(int content, int start, int stop) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                int[] cps = t.codePoints().toArray();
                int from = 0, to = cps.length;
                while (from < start && from < cps.length && cps[from] == content) from++;
                int cut = 0;
                while (cut < stop && to > from && cps[to - 1] == content) {
                    to--;
                    cut++;
                }
                out.add(new String(cps, from, to - from));
            }
            return out;
        }
    }

    /** {@code ByteLevel}: every token's characters back to bytes, decoded as lossy UTF-8 into one string. */
    record ByteLevel() implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (String t : tokens) ByteLevelAlphabet.appendBytes(t, bytes);
            return List.of(Utf8.decodeLossy(bytes.toByteArray()));
        }
    }

    /**
     * {@code Metaspace}: {@code replacement} becomes a space, except in the first token, where
     * (unless prepend_scheme is never) HF drops every replacement character.
     */
    record Metaspace(String replacement, boolean dropInFirst) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                out.add(tokens.get(i).replace(replacement, i == 0 && dropInFirst ? "" : " "));
            }
            return out;
        }
    }

    /** {@code Sequence}: {@code decoders} in order. */
    record Sequence(List<Decoder> decoders) implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            for (Decoder d : decoders) tokens = d.decodeChain(tokens);
            return tokens;
        }
    }

    /** No {@code decoder} in the file: HF joins the tokens with spaces. */
    record JoinWithSpaces() implements Decoder {
        public List<String> decodeChain(List<String> tokens) {
            return List.of(String.join(" ", tokens));
        }
    }

    /** Reads a tokenizer.json {@code decoder} object. */
    static Decoder parse(JsonAt json) {
        if (!json.isPresent()) return new JoinWithSpaces();
        String type = json.string("type");
        return switch (type) {
            case "Replace" -> new Replace(SplitPattern.parse(json.get("pattern")), json.string("content"));
            case "ByteFallback" -> new ByteFallback();
            case "Fuse" -> new Fuse();
            case "Strip" -> new Strip(json.character("content").codePointAt(0), json.integer("start"), json.integer("stop"));
            case "ByteLevel" -> new ByteLevel();
            case "Metaspace" -> new Metaspace(json.character("replacement"), !PreTokenizer.prependScheme(json).equals("never"));
            case "Sequence" -> new Sequence(json.get("decoders").elements().stream().map(Decoder::parse).toList());
            default -> throw json.get("type").error(
                    "a supported decoder (Replace, ByteFallback, Fuse, Strip, ByteLevel, Metaspace, Sequence)",
                    "\"" + type + "\"");
        };
    }
}
