package jmlc.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * tokenizer.json {@code model.type: "BPE"}: a word starts as its characters (or, with
 * {@code byte_fallback}, {@code <0xXX>} tokens for characters outside the vocabulary) and the
 * pair with the lowest merge rank is merged until none is left; equal ranks merge leftmost
 * first. A priority queue over a linked list of symbols keeps this O(n log n) per word, which
 * matters for SentencePiece-style files where a whole line is one word.
 */
final class BpeModel implements Model {

    private final Map<String, Integer> vocab;
    /** (left id, right id) packed in a long -> (rank << 32 | merged id). */
    private final LongLongMap merges;
    private final Integer unkId;
    private final boolean fuseUnk;
    private final boolean byteFallback;
    /** {@code ignore_merges} (Llama-3): a word that is itself in the vocabulary is one token. */
    private final boolean ignoreMerges;
    private final String continuingSubwordPrefix;
    private final String endOfWordSuffix;
    private final int[] byteIds = new int[256];

    /** Words shorter than this are cached, as HF's BPE does (its MAX_LENGTH is 256). */
    private static final int CACHE_WORD_LENGTH = 256;
    private static final int CACHE_CAPACITY = 50_000;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    BpeModel(Map<String, Integer> vocab, LongLongMap merges, Integer unkId, boolean fuseUnk, boolean byteFallback,
             boolean ignoreMerges, String continuingSubwordPrefix, String endOfWordSuffix) {
        this.vocab = vocab;
        this.merges = merges;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        this.continuingSubwordPrefix = continuingSubwordPrefix == null ? "" : continuingSubwordPrefix;
        this.endOfWordSuffix = endOfWordSuffix == null ? "" : endOfWordSuffix;
        for (int b = 0; b < 256; b++) byteIds[b] = vocab.getOrDefault(String.format("<0x%02X>", b), -1);
    }

    @Override
    public Integer id(String token) {
        return vocab.get(token);
    }

    static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    @Override
    public void encode(String word, IntList out) {
        if (word.isEmpty()) return;
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        boolean cacheable = word.length() < CACHE_WORD_LENGTH;
        int[] ids = cacheable ? cache.get(word) : null;
        if (ids == null) {
            ids = merge(word);
            if (cacheable) {
                if (cache.size() >= CACHE_CAPACITY) cache.clear();
                cache.put(word, ids);
            }
        }
        out.addAll(ids);
    }

    private int[] merge(String word) {
        // Symbols as a doubly linked list over arrays: id, prev, next; len = -1 marks a merged-away symbol.
        int n = word.length();
        int[] id = new int[n + 8], prev = new int[n + 8], next = new int[n + 8], len = new int[n + 8];
        int count = 0;
        boolean lastWasUnk = false;
        for (int i = 0; i < n; ) {
            if (count % Interruption.EVERY == 0) Interruption.check("tokenizing");
            int cp = word.codePointAt(i);
            int end = i + Character.charCount(cp);
            String s = word.substring(i, end);
            if (i > 0) s = continuingSubwordPrefix + s;
            if (end == n) s = s + endOfWordSuffix;
            i = end;
            Integer tokenId = vocab.get(s);
            if (tokenId == null && byteFallback) {
                byte[] bytes = word.substring(end - Character.charCount(cp), end).getBytes(StandardCharsets.UTF_8);
                boolean all = true;
                for (byte b : bytes) all &= byteIds[b & 0xFF] >= 0;
                if (all) {
                    if (count + bytes.length > id.length) {
                        id = java.util.Arrays.copyOf(id, count + bytes.length + n);
                        prev = java.util.Arrays.copyOf(prev, id.length);
                        next = java.util.Arrays.copyOf(next, id.length);
                        len = java.util.Arrays.copyOf(len, id.length);
                    }
                    for (byte b : bytes) id[count++] = byteIds[b & 0xFF];
                    lastWasUnk = false;
                    continue;
                }
            }
            if (tokenId == null) {
                if (unkId == null) continue; // HF drops a character it cannot represent when there is no unk token
                if (fuseUnk && lastWasUnk) continue;
                tokenId = unkId;
                lastWasUnk = true;
            } else {
                lastWasUnk = false;
            }
            if (count == id.length) {
                id = java.util.Arrays.copyOf(id, count * 2);
                prev = java.util.Arrays.copyOf(prev, id.length);
                next = java.util.Arrays.copyOf(next, id.length);
                len = java.util.Arrays.copyOf(len, id.length);
            }
            id[count++] = tokenId;
        }
        for (int i = 0; i < count; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < count ? i + 1 : -1;
            len[i] = 1;
        }
        LongHeap queue = new LongHeap();
        for (int i = 0; i + 1 < count; i++) {
            if (i % Interruption.EVERY == 0) Interruption.check("tokenizing");
            long m = merges.get(pair(id[i], id[i + 1]));
            if (m >= 0) queue.add((m >>> 32) << 32 | i);
        }
        int alive = count;
        int polls = 0;
        while (!queue.isEmpty()) {
            if (++polls % Interruption.EVERY == 0) Interruption.check("tokenizing");
            long top = queue.poll();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            if (len[pos] < 0 || next[pos] < 0) continue;
            int right = next[pos];
            long m = merges.get(pair(id[pos], id[right]));
            if (m < 0 || (int) (m >>> 32) != rank) continue; // the pair changed since it was queued
            id[pos] = (int) m;
            len[right] = -1;
            next[pos] = next[right];
            if (next[right] >= 0) prev[next[right]] = pos;
            alive--;
            if (prev[pos] >= 0) {
                long pm = merges.get(pair(id[prev[pos]], id[pos]));
                if (pm >= 0) queue.add((pm >>> 32) << 32 | prev[pos]);
            }
            if (next[pos] >= 0) {
                long nm = merges.get(pair(id[pos], id[next[pos]]));
                if (nm >= 0) queue.add((nm >>> 32) << 32 | pos);
            }
        }
        int[] result = new int[alive];
        int k = 0;
        for (int i = count > 0 ? 0 : -1; i >= 0; i = next[i]) result[k++] = id[i];
        return result;
    }
}
