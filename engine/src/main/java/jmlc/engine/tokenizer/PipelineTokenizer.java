package jmlc.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * HF's encode pipeline: added tokens out of the raw text, normalizer, normalized added tokens,
 * pre-tokenizer, model, post-processor; and its decode: id to token string (added tokens
 * first), special tokens skipped on request, decoder, then transformers'
 * {@code clean_up_tokenization_spaces}. Both loaders (tokenizer.json and GGUF) build one.
 */
final class PipelineTokenizer implements Tokenizer {

    /** The parts; {@code tokens[id]} is the token string (null for an unused id). */
    record Parts(String[] tokens, Map<String, Integer> ids, AddedVocabulary added, Normalizer normalizer,
                 PreTokenizer preTokenizer, Model model, PostProcessor postProcessor, Decoder decoder,
                 boolean cleanUpTokenizationSpaces, OptionalInt bos, Set<Integer> eos, Optional<String> chatTemplate) {}

    private final Parts p;
    private final boolean[] special;
    /** Whether the decoder turns {@code <0xXX>} tokens into bytes (then the stream decoder waits for a run to end). */
    private final boolean byteFallback;

    PipelineTokenizer(Parts parts) {
        this.p = parts;
        this.special = new boolean[parts.tokens().length];
        for (AddedToken t : parts.added().tokens()) if (t.special()) special[t.id()] = true;
        this.byteFallback = usesByteFallback(parts.decoder());
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        IntList out = new IntList();
        for (AddedVocabulary.Segment raw : p.added().splitRaw(text)) {
            if (raw.isToken()) {
                out.add(raw.id());
                continue;
            }
            if (raw.text().isEmpty()) continue;
            String normalized = p.normalizer().apply(raw.text());
            for (AddedVocabulary.Segment seg : p.added().splitNormalized(normalized, raw.atOrigin())) {
                if (seg.isToken()) {
                    out.add(seg.id());
                    continue;
                }
                if (seg.text().isEmpty()) continue;
                for (PreTokenizer.Piece piece : p.preTokenizer().apply(List.of(new PreTokenizer.Piece(seg.text(), seg.atOrigin())))) {
                    Interruption.check("tokenizing");
                    if (!piece.text().isEmpty()) p.model().encode(piece.text(), out);
                }
            }
        }
        int[] ids = out.toArray();
        return addSpecialTokens ? p.postProcessor().addSpecialTokens(ids) : ids;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            // HF's decode skips ids it has no token for.
            if (id < 0 || id >= p.tokens().length || p.tokens()[id] == null) continue;
            if (skipSpecialTokens && special[id]) continue;
            tokens.add(p.tokens()[id]);
        }
        String text = p.decoder().decode(tokens);
        return p.cleanUpTokenizationSpaces() ? CleanUp.apply(text) : text;
    }

    private static boolean usesByteFallback(Decoder d) {
        return switch (d) {
            case Decoder.ByteFallback b -> true;
            case Decoder.Sequence s -> s.decoders().stream().anyMatch(PipelineTokenizer::usesByteFallback);
            default -> false;
        };
    }

    @Override
    public StreamDecoder streamDecoder(boolean skipSpecialTokens) {
        return new StreamDecoder(this, skipSpecialTokens, p.cleanUpTokenizationSpaces(),
                id -> byteFallback && Decoder.ByteFallback.byteToken(token(id) == null ? "" : token(id)) >= 0);
    }

    @Override
    public int vocabSize() {
        return p.tokens().length;
    }

    @Override
    public String token(int id) {
        return id >= 0 && id < p.tokens().length ? p.tokens()[id] : null;
    }

    @Override
    public OptionalInt tokenId(String token) {
        Integer id = p.ids().get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public OptionalInt bosId() {
        return p.bos();
    }

    @Override
    public Set<Integer> eosIds() {
        return p.eos();
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    @Override
    public Optional<String> chatTemplate() {
        return p.chatTemplate();
    }

    @Override
    public String toString() {
        return "Tokenizer[" + p.tokens().length + " tokens, model " + p.model().getClass().getSimpleName() + "]";
    }
}
