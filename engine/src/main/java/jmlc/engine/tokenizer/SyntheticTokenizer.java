package jmlc.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The tokenizer of synthetic models, which have random weights and no vocabulary file. It keeps
 * Llama-2's layout of the first ids (0 {@code <unk>}, 1 {@code <s>}, 2 {@code </s>}, 3..258 the
 * byte-fallback tokens {@code <0x00>..<0xFF>}): text encodes as UTF-8 bytes, so any prompt works.
 * Every other id decodes to a made-up word ({@code " kado"}), so the random text a synthetic
 * model generates is readable as text, if not as language.
 */
public final class SyntheticTokenizer implements Tokenizer {
    private static final int BYTES = 3;
    private static final String[] SYLLABLES = {"ka", "do", "mi", " re", "lo", "su", "ti", "na", "be", "po", "ga", "ze", "vu", "fi", "ho", "ja"};
    private final int vocabSize;

    public SyntheticTokenizer(int vocabSize) {
        if (vocabSize < BYTES + 256) throw new IllegalArgumentException("a synthetic vocabulary needs at least 259 ids, found " + vocabSize);
        this.vocabSize = vocabSize;
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int off = addSpecialTokens ? 1 : 0;
        int[] ids = new int[b.length + off];
        if (addSpecialTokens) ids[0] = 1;
        for (int i = 0; i < b.length; i++) ids[i + off] = BYTES + (b[i] & 0xff);
        return ids;
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
            for (int i = BYTES + 256; i < vocabSize; i++) if (token.equals(token(i))) return OptionalInt.of(i);
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
