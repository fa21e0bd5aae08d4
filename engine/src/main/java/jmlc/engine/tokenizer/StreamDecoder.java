package jmlc.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Decodes a generated sequence one id at a time. {@link #next} returns the text the new id
 * completes ("" while it waits), {@link #flush} what is left at the end; together they equal
 * {@code decode(allIds)}. It works as HF's {@code DecodeStream}: it decodes a short window of
 * recent ids and returns what that adds to the window's previous text, so the SentencePiece
 * leading-space strip and byte-level joins come out as in a whole-sequence decode. Text is held
 * back while it ends in U+FFFD (an incomplete UTF-8 sequence from byte tokens) or, when
 * clean_up_tokenization_spaces is on, in the start of a clean-up pattern (" ", " n'" ...), and
 * while a run of {@code <0xXX>} byte-fallback tokens is open: HF decodes an invalid run to one
 * U+FFFD per byte, so a later byte can still change how the earlier ones read.
 * Not thread-safe: one per generation.
 */
public final class StreamDecoder {

    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private final boolean cleanUp;
    /** Ids after which nothing is returned yet (open byte-fallback runs). */
    private final java.util.function.IntPredicate holdAfter;
    private final List<Integer> window = new ArrayList<>();
    /** Ids of the whole sequence and the text returned so far, for the rare fallback. */
    private final List<Integer> all = new ArrayList<>();
    private final StringBuilder emitted = new StringBuilder();
    /** Window ids [0, prefixCount) are context; prefix is their decoded text. */
    private int prefixCount;
    private String prefix = "";

    StreamDecoder(Tokenizer tokenizer, boolean skipSpecialTokens, boolean cleanUp, java.util.function.IntPredicate holdAfter) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
        this.cleanUp = cleanUp;
        this.holdAfter = holdAfter;
    }

    /** Adds one id; returns the text it completes, possibly empty. */
    public String next(int id) {
        window.add(id);
        all.add(id);
        if (holdAfter.test(id)) return "";
        String text = decode(window);
        if (text.length() <= prefix.length() || text.endsWith("\uFFFD") || (cleanUp && CleanUp.endsInsidePattern(text))) {
            return "";
        }
        if (!text.startsWith(prefix)) return resync(false);
        String added = text.substring(prefix.length());
        // Keep the ids after the old context as the next context, as DecodeStream does.
        int keep = window.size() - prefixCount;
        window.subList(0, prefixCount).clear();
        prefix = decode(window);
        prefixCount = keep;
        emitted.append(added);
        return added;
    }

    /** The text still held back (an incomplete character becomes U+FFFD, as decode does). */
    public String flush() {
        String text = decode(window);
        if (!text.startsWith(prefix)) return resync(true);
        String rest = text.substring(prefix.length());
        emitted.append(rest);
        window.subList(0, prefixCount).clear();
        prefixCount = window.size();
        prefix = decode(window);
        return rest;
    }

    /** The window's text no longer extends its prefix (a decoder rewrote earlier text): fall back to the full decode. */
    private String resync(boolean atEnd) {
        int[] ids = all.stream().mapToInt(Integer::intValue).toArray();
        String full = tokenizer.decode(ids, skipSpecialTokens);
        if (!atEnd && (full.endsWith("\uFFFD") || (cleanUp && CleanUp.endsInsidePattern(full)))) return "";
        String added;
        if (full.startsWith(emitted.toString())) {
            added = full.substring(emitted.length());
        } else {
            // Text already returned cannot be taken back: carry on from the full decode as it now reads.
            added = "";
            emitted.setLength(0);
            emitted.append(full);
        }
        emitted.append(added);
        window.clear();
        window.add(ids[ids.length - 1]);
        prefixCount = 1;
        prefix = decode(window);
        return added;
    }

    private String decode(List<Integer> ids) {
        return tokenizer.decode(ids.stream().mapToInt(Integer::intValue).toArray(), skipSpecialTokens);
    }
}
