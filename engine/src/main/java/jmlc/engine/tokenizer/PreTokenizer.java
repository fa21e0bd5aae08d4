package jmlc.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * tokenizer.json {@code pre_tokenizer}: splits normalized text into the words the model encodes
 * one at a time (and, for ByteLevel, rewrites each byte as a printable character).
 */
sealed interface PreTokenizer {

    /** A piece of text; {@code atOrigin} when it starts at offset 0 of the original input (Metaspace "first"). */
    record Piece(String text, boolean atOrigin) {}

    List<Piece> apply(List<Piece> pieces);

    /** {@code Split}: splits on {@code pattern} matches, keeping them per {@code behavior}; {@code invert} swaps matches and gaps. */
    record Split(SplitPattern pattern, Behavior behavior, boolean invert) implements PreTokenizer {
        public List<Piece> apply(List<Piece> pieces) {
            List<Piece> out = new ArrayList<>();
            for (Piece p : pieces) split(p, out);
            return out;
        }

        private void split(Piece piece, List<Piece> out) {
            // (start, end, isMatch) spans covering the whole text, as HF's Pattern::find_matches.
            String text = piece.text();
            List<int[]> spans = new ArrayList<>();
            int prev = 0;
            for (int[] m : pattern.find(text)) {
                if (prev != m[0]) spans.add(new int[] {prev, m[0], 0});
                spans.add(new int[] {m[0], m[1], 1});
                prev = m[1];
            }
            if (prev != text.length()) spans.add(new int[] {prev, text.length(), 0});
            if (invert) for (int[] s : spans) s[2] ^= 1;
            for (int[] s : behavior.merge(spans)) {
                out.add(new Piece(text.substring(s[0], s[1]), piece.atOrigin() && s[0] == 0));
            }
        }
    }

    /** {@code SplitDelimiterBehavior}: what happens to the matched delimiters. */
    enum Behavior {
        REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

        static Behavior parse(JsonAt json) {
            return switch (json.string()) {
                case "Removed" -> REMOVED;
                case "Isolated" -> ISOLATED;
                case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
                case "MergedWithNext" -> MERGED_WITH_NEXT;
                case "Contiguous" -> CONTIGUOUS;
                default -> throw json.error("Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous", json.describe());
            };
        }

        /** Turns (start, end, isMatch) spans into the kept (start, end) spans. */
        List<int[]> merge(List<int[]> spans) {
            List<int[]> out = new ArrayList<>();
            switch (this) {
                case REMOVED -> { for (int[] s : spans) if (s[2] == 0) out.add(s); }
                case ISOLATED -> out.addAll(spans);
                case MERGED_WITH_PREVIOUS -> {
                    boolean prevWasMatch = false;
                    for (int[] s : spans) {
                        if (s[2] == 1 && !out.isEmpty() && !prevWasMatch) out.getLast()[1] = s[1];
                        else out.add(new int[] {s[0], s[1]});
                        prevWasMatch = s[2] == 1;
                    }
                }
                case MERGED_WITH_NEXT -> {
                    boolean prevWasMatch = false;
                    for (int[] s : spans) {
                        if (prevWasMatch && s[2] == 0) out.getLast()[1] = s[1];
                        else out.add(new int[] {s[0], s[1]});
                        prevWasMatch = s[2] == 1;
                    }
                }
                case CONTIGUOUS -> {
                    boolean prevWasMatch = false;
                    for (int[] s : spans) {
                        if (s[2] == 1 && prevWasMatch) out.getLast()[1] = s[1];
                        else out.add(new int[] {s[0], s[1]});
                        prevWasMatch = s[2] == 1;
                    }
                }
            }
            return out;
        }
    }

    /**
     * {@code ByteLevel}: optionally prefixes a space ({@code add_prefix_space}), optionally splits
     * with the GPT-2 pattern ({@code use_regex}), then maps every UTF-8 byte to its printable character.
     */
    record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        static final SplitPattern GPT2 = SplitPattern.regex(
                "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", "(built in)", "ByteLevel's GPT-2 pattern");

        public List<Piece> apply(List<Piece> pieces) {
            List<Piece> prefixed = new ArrayList<>(pieces.size());
            for (Piece p : pieces) {
                // HF adds the space to every piece that lacks one, not only the first.
                prefixed.add(addPrefixSpace && !p.text().startsWith(" ") ? new Piece(" " + p.text(), p.atOrigin()) : p);
            }
            List<Piece> split = useRegex ? new Split(GPT2, Behavior.ISOLATED, false).apply(prefixed) : prefixed;
            List<Piece> out = new ArrayList<>(split.size());
            for (Piece p : split) out.add(new Piece(ByteLevelAlphabet.encode(p.text()), p.atOrigin()));
            return out;
        }
    }

    /**
     * {@code Metaspace} (older Llama/Mistral files): spaces become {@code replacement}, which is also
     * prepended per {@code prepend_scheme} (always, first: only the piece at offset 0, never);
     * with {@code split}, each replacement starts a new piece.
     */
    record Metaspace(String replacement, String prependScheme, boolean split) implements PreTokenizer {
        public List<Piece> apply(List<Piece> pieces) {
            List<Piece> out = new ArrayList<>();
            for (Piece p : pieces) {
                String text = p.text().replace(" ", replacement);
                boolean prepend = switch (prependScheme) {
                    case "always" -> true;
                    case "first" -> p.atOrigin();
                    default -> false;
                };
                if (prepend && !text.startsWith(replacement)) text = replacement + text;
                if (!split) {
                    out.add(new Piece(text, p.atOrigin()));
                    continue;
                }
                Split s = new Split(SplitPattern.literal(replacement), Behavior.MERGED_WITH_NEXT, false);
                out.addAll(s.apply(List.of(new Piece(text, p.atOrigin()))));
            }
            return out;
        }
    }

    /** {@code Sequence}: {@code pretokenizers} in order, each splitting the pieces of the one before. */
    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        public List<Piece> apply(List<Piece> pieces) {
            for (PreTokenizer step : steps) pieces = step.apply(pieces);
            return pieces;
        }
    }

    /** Reads a tokenizer.json {@code pre_tokenizer} object (null/absent: the whole piece is one word). */
    static PreTokenizer parse(JsonAt json) {
        if (!json.isPresent()) return new Sequence(List.of());
        String type = json.string("type");
        return switch (type) {
            case "Split" -> new Split(SplitPattern.parse(json.get("pattern")), Behavior.parse(json.get("behavior")),
                    json.bool("invert", false));
            case "ByteLevel" -> new ByteLevel(json.bool("add_prefix_space", true), json.bool("use_regex", true));
            case "Metaspace" -> new Metaspace(json.character("replacement"), prependScheme(json), json.bool("split", true));
            case "Sequence" -> new Sequence(json.get("pretokenizers").elements().stream().map(PreTokenizer::parse).toList());
            default -> throw json.get("type").error("a supported pre_tokenizer (Split, ByteLevel, Metaspace, Sequence)",
                    "\"" + type + "\"");
        };
    }

    /** Metaspace's {@code prepend_scheme}; files older than it say {@code add_prefix_space} (true: always). */
    static String prependScheme(JsonAt json) {
        if (json.get("prepend_scheme").isPresent()) {
            String scheme = json.string("prepend_scheme").toLowerCase(Locale.ROOT);
            if (!List.of("always", "first", "never").contains(scheme)) {
                throw json.get("prepend_scheme").error("always, first or never", "\"" + scheme + "\"");
            }
            return scheme;
        }
        return json.bool("add_prefix_space", true) ? "always" : "never";
    }
}
