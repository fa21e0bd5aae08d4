package jmlc.engine.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in text, as HF's AddedVocabulary: leftmost-longest matches (its
 * Aho-Corasick MatchKind::LeftmostLongest), then {@code single_word}, {@code lstrip} and
 * {@code rstrip} per token. Non-normalized tokens are found in the raw text, normalized ones
 * in each normalized piece between them.
 */
final class AddedVocabulary {

    /** A piece of input: either text for the model ({@code id < 0}) or an added token. */
    record Segment(String text, int id, boolean atOrigin) {
        boolean isToken() {
            return id >= 0;
        }
    }

    private static final class Node {
        final Map<Character, Node> children = new HashMap<>();
        AddedToken token;
    }

    private final List<AddedToken> tokens;
    private final Node raw = new Node();
    private final Node normalized = new Node();

    AddedVocabulary(List<AddedToken> tokens) {
        this.tokens = List.copyOf(tokens);
        for (AddedToken t : tokens) {
            if (t.content().isEmpty()) continue;
            Node node = t.normalized() ? normalized : raw;
            for (int i = 0; i < t.content().length(); i++) node = node.children.computeIfAbsent(t.content().charAt(i), c -> new Node());
            node.token = t;
        }
    }

    List<AddedToken> tokens() {
        return tokens;
    }

    /** Splits raw text on non-normalized tokens. */
    List<Segment> splitRaw(String text) {
        return split(text, raw, true);
    }

    /** Splits an already normalized piece on normalized tokens. */
    List<Segment> splitNormalized(String text, boolean atOrigin) {
        return split(text, normalized, atOrigin);
    }

    private static List<Segment> split(String s, Node root, boolean atOrigin) {
        List<Segment> out = new ArrayList<>();
        if (root.children.isEmpty()) {
            out.add(new Segment(s, -1, atOrigin));
            return out;
        }
        int startOffset = 0;
        int i = 0;
        while (i < s.length()) {
            if (i % (16 * Interruption.EVERY) == 0) Interruption.check("tokenizing");
            // Longest token starting at i.
            Node node = root;
            AddedToken match = null;
            int matchEnd = -1;
            for (int j = i; j < s.length(); j++) {
                node = node.children.get(s.charAt(j));
                if (node == null) break;
                if (node.token != null) {
                    match = node.token;
                    matchEnd = j + 1;
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            int start = i, stop = matchEnd;
            if (match.singleWord()) {
                boolean spaceBefore = start == 0 || !Chars.isWordChar(s.codePointBefore(start));
                boolean spaceAfter = stop == s.length() || !Chars.isWordChar(s.codePointAt(stop));
                if (!spaceBefore || !spaceAfter) {
                    i = matchEnd; // the matcher resumes after a rejected match, as HF's find_iter does
                    continue;
                }
            }
            if (match.lstrip()) {
                int newStart = start;
                while (newStart > 0 && Chars.isWhiteSpace(s.codePointBefore(newStart))) newStart -= Character.charCount(s.codePointBefore(newStart));
                start = Math.max(newStart, startOffset);
            }
            if (match.rstrip()) {
                while (stop < s.length() && Chars.isWhiteSpace(s.codePointAt(stop))) stop += Character.charCount(s.codePointAt(stop));
            }
            if (startOffset < start) out.add(new Segment(s.substring(startOffset, start), -1, atOrigin && startOffset == 0));
            out.add(new Segment(match.content(), match.id(), false));
            startOffset = stop;
            i = stop;
        }
        if (startOffset < s.length()) out.add(new Segment(s.substring(startOffset), -1, atOrigin && startOffset == 0));
        return out;
    }
}
