package jmlc.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The tokenizer of synthetic models, which have random weights and no vocabulary file. It keeps
 * Llama-2's layout of the first ids (0 {@code <unk>}, 1 {@code <s>}, 2 {@code </s>}, 3..258 the
 * byte-fallback tokens {@code <0x00>..<0xFF>}). Every other id is a made-up word, a space and
 * two-letter syllables ({@code " kado"}), so the random text a synthetic model generates is
 * readable as text, if not as language.
 *
 * <p>It round-trips: a space followed by letters that spell a word of the vocabulary encodes as
 * that word's id, anything else as UTF-8 bytes, so any prompt works and the text a model
 * generated encodes back to the ids it generated (but where a byte token of a lowercase letter
 * follows a word: {@code " ka"} then {@code "d"} reads as the word {@code " kad..."}, as with any
 * tokenizer that has both words and bytes).
 */
public final class SyntheticTokenizer implements Tokenizer {
    private static final int BYTES = 3;
    private static final String[] SYLLABLES = {"ka", "do", "mi", "re", "lo", "su", "ti", "na", "be", "po", "ga", "ze", "vu", "fi", "ho", "ja"};
    private final int vocabSize;

    public SyntheticTokenizer(int vocabSize) {
        if (vocabSize < BYTES + 256) throw new IllegalArgumentException("a synthetic vocabulary needs at least 259 ids, found " + vocabSize);
        this.vocabSize = vocabSize;
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        IntList ids = new IntList();
        if (addSpecialTokens) ids.add(1);
        for (int i = 0; i < b.length; ) {
            // a word: a space and every lowercase letter after it
            int end = i + 1;
            while (b[i] == ' ' && end < b.length && b[end] >= 'a' && b[end] <= 'z') end++;
            int id = end > i + 1 ? wordId(b, i + 1, end) : -1;
            if (id >= 0) {
                ids.add(id);
                i = end;
            } else {
                ids.add(BYTES + (b[i] & 0xff));
                i++;
            }
        }
        return ids.toArray();
    }

    /** The id of the word spelled by {@code b[from, to)} (letters, no space), or -1 if it is none of the vocabulary's. */
    private int wordId(byte[] b, int from, int to) {
        int len = to - from;
        if (len % 2 != 0 || len > 2 * 8) return -1;
        long n = 0, place = 1;
        int last = 0;
        for (int i = from; i < to; i += 2) {
            last = syllable(b[i], b[i + 1]);
            if (last < 0) return -1;
            n += last * place;
            place *= SYLLABLES.length;
        }
        if (len > 2 && last == 0) return -1; // not how word() spells any id: "kaka" is no word, "ka" is id 259
        long id = BYTES + 256 + n;
        return id < vocabSize ? (int) id : -1;
    }

    private static int syllable(byte a, byte b) {
        for (int s = 0; s < SYLLABLES.length; s++) if (SYLLABLES[s].charAt(0) == a && SYLLABLES[s].charAt(1) == b) return s;
        return -1;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        StringBuilder sb = new StringBuilder();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int id : ids) {
            if (id >= BYTES && id < BYTES + 256) {
                bytes.write(id - BYTES);
                continue;
            }
            sb.append(bytes.toString(StandardCharsets.UTF_8));
            bytes.reset();
            if (id < BYTES) {
                if (!skipSpecialTokens) sb.append(token(id));
            } else {
                sb.append(' ').append(word(id));
            }
        }
        return sb.append(bytes.toString(StandardCharsets.UTF_8)).toString();
    }

    private static String word(int id) {
        int n = id - BYTES - 256;
        StringBuilder w = new StringBuilder();
        do {
            w.append(SYLLABLES[n % SYLLABLES.length]);
            n /= SYLLABLES.length;
        } while (n > 0);
        return w.toString();
    }

    @Override
    public StreamDecoder streamDecoder(boolean skipSpecialTokens) {
        return new StreamDecoder(this, skipSpecialTokens, false, id -> false);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public String token(int id) {
        if (id < 0 || id >= vocabSize) return null;
        return switch (id) {
            case 0 -> "<unk>";
            case 1 -> "<s>";
            case 2 -> "</s>";
            default -> id < BYTES + 256 ? String.format("<0x%02X>", id - BYTES) : "▁" + word(id);
        };
    }

    @Override
    public OptionalInt tokenId(String token) {
        for (int i = 0; i < Math.min(vocabSize, BYTES + 256); i++) if (token.equals(token(i))) return OptionalInt.of(i);
        if (token.startsWith("▁")) {
            byte[] w = token.substring(1).getBytes(StandardCharsets.UTF_8);
            int id = w.length == 0 ? -1 : wordId(w, 0, w.length);
            if (id >= 0) return OptionalInt.of(id);
        }
        return OptionalInt.empty();
    }

    @Override
    public OptionalInt bosId() {
        return OptionalInt.of(1);
    }

    @Override
    public Set<Integer> eosIds() {
        return Set.of(2);
    }

    @Override
    public boolean isSpecial(int id) {
        return id < BYTES;
    }

    @Override
    public Optional<String> chatTemplate() {
        return Optional.empty();
    }
}
