package jmlc.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * SentencePiece BPE by score, as llama.cpp's {@code llm_tokenizer_spm} runs GGUF "llama"
 * vocabularies that carry no merges: a word starts as its characters; the adjacent pair whose
 * concatenation is a vocabulary token of the best priority merges first (equal priority:
 * leftmost); characters outside the vocabulary become {@code <0xXX>} byte tokens (else unk).
 * Priority comes from {@code tokenizer.ggml.scores} (higher first) or, where every score is the
 * same (convert_hf_to_gguf's LlamaHfVocab writes -1000 for all), from the token id: SentencePiece
 * numbers BPE pieces in the order their merges were learned.
 */
final class SpmModel implements Model {

    /** Merge targets (normal tokens) -> priority rank (0 merges first). */
    private final Map<String, Integer> rank;
    /** Every normal token -> id. */
    private final Map<String, Integer> vocab;
    private final int[] byteIds;
    private final Integer unkId;

    SpmModel(Map<String, Integer> vocab, Map<String, Integer> rank, int[] byteIds, Integer unkId) {
        this.vocab = vocab;
        this.rank = rank;
        this.byteIds = byteIds;
        this.unkId = unkId;
    }

    @Override
    public Integer id(String token) {
        return vocab.get(token);
    }

    private record Bigram(int rank, int left, int size) {}

    @Override
    public void encode(String word, IntList out) {
        int n = word.length();
        if (n == 0) return;
        // Symbols: start offset (chars), length (chars, 0 = merged away), prev, next.
        int[] start = new int[n], len = new int[n], prev = new int[n], next = new int[n];
        int count = 0;
        for (int i = 0; i < n; count++) {
            int c = Character.charCount(word.codePointAt(i));
            start[count] = i;
            len[count] = c;
            prev[count] = count - 1;
            next[count] = -1;
            if (count > 0) next[count - 1] = count;
            i += c;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.rank != b.rank
                ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 0; i + 1 < count; i++) {
            if (i % Interruption.EVERY == 0) Interruption.check("tokenizing");
            tryAdd(word, i, i + 1, start, len, queue);
        }
        int polls = 0;
        while (!queue.isEmpty()) {
            if (++polls % Interruption.EVERY == 0) Interruption.check("tokenizing");
            Bigram b = queue.poll();
            int left = b.left;
            int right = next[left];
            // Stale if either side merged since: llama.cpp checks the lengths still add up.
            if (len[left] == 0 || right < 0 || len[right] == 0 || len[left] + len[right] != b.size) continue;
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            if (prev[left] >= 0) tryAdd(word, prev[left], left, start, len, queue);
            if (next[left] >= 0) tryAdd(word, left, next[left], start, len, queue);
        }
        for (int i = 0; i >= 0 && i < count; i = next[i]) {
            String text = word.substring(start[i], start[i] + len[i]);
            Integer id = vocab.get(text);
            if (id != null) {
                out.add(id);
                continue;
            }
            // Only single characters can be missing (merges only form vocabulary tokens): their
            // UTF-8 bytes as <0xXX> tokens, or one unk token where the vocabulary lacks a byte.
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            boolean allBytes = true;
            for (byte by : bytes) allBytes &= byteIds[by & 0xFF] >= 0;
            if (allBytes) for (byte by : bytes) out.add(byteIds[by & 0xFF]);
            else if (unkId != null) out.add(unkId);
        }
    }

    private void tryAdd(String word, int left, int right, int[] start, int[] len, PriorityQueue<Bigram> queue) {
        int size = len[left] + len[right];
        Integer r = rank.get(word.substring(start[left], start[left] + size));
        if (r != null) queue.add(new Bigram(r, left, size));
    }
}
