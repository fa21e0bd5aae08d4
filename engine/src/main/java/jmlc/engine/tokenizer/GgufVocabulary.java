package jmlc.engine.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds a tokenizer from GGUF metadata, as llama.cpp reads it:
 * <ul>
 * <li>{@code tokenizer.ggml.model = "llama"}: SentencePiece BPE with byte fallback. Text is
 *     escaped as tokenizer.json's Prepend("▁") + Replace(" ", "▁") does; with
 *     {@code tokenizer.ggml.merges} the merges run by rank (as HF), otherwise by
 *     {@code tokenizer.ggml.scores} ({@link SpmModel}).</li>
 * <li>{@code "gpt2"}: byte-level BPE over {@code tokenizer.ggml.merges}, split first by the
 *     pre-tokenizer that {@code tokenizer.ggml.pre} names ({@link GgufPreTokenizers}).</li>
 * </ul>
 * {@code tokenizer.ggml.token_type}: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused,
 * 6 byte. Control, unknown and user-defined tokens are split out of the text like HF added
 * tokens; control and unknown ones are special.
 */
final class GgufVocabulary {
    private GgufVocabulary() {}

    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    /** End-of-turn tokens llama.cpp also stops on, by text. */
    private static final Set<String> END_OF_TURN = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|eom_id|>",
            "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>");

    static Tokenizer load(Map<String, Object> meta, String file) {
        Keys k = new Keys(meta, file);
        String modelName = k.string("tokenizer.ggml.model");
        // one copy: a GGUF reader may hand arrays over as stored bytes, decoding an element at each get
        List<String> tokens = new ArrayList<>(k.strings("tokenizer.ggml.tokens"));
        int n = tokens.size();
        int[] types = new int[n];
        if (meta.containsKey("tokenizer.ggml.token_type")) {
            List<Long> t = k.longs("tokenizer.ggml.token_type", n);
            for (int i = 0; i < n; i++) types[i] = t.get(i).intValue();
        } else {
            java.util.Arrays.fill(types, NORMAL);
        }

        Map<String, Integer> ids = new HashMap<>(n * 2);
        List<AddedToken> added = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (i % Interruption.EVERY == 0) Interruption.check("reading the vocabulary of " + file);
            ids.putIfAbsent(tokens.get(i), i);
            if (types[i] == CONTROL || types[i] == UNKNOWN || types[i] == USER_DEFINED) {
                added.add(new AddedToken(i, tokens.get(i), types[i] != USER_DEFINED, false, false, false, false));
            }
        }
        OptionalInt bos = k.optionalId("tokenizer.ggml.bos_token_id", n);
        OptionalInt eos = k.optionalId("tokenizer.ggml.eos_token_id", n);
        Set<Integer> eosIds = new LinkedHashSet<>();
        eos.ifPresent(eosIds::add);
        k.optionalId("tokenizer.ggml.eot_token_id", n).ifPresent(eosIds::add);
        k.optionalId("tokenizer.ggml.eom_token_id", n).ifPresent(eosIds::add);
        for (AddedToken t : added) if (t.special() && END_OF_TURN.contains(t.content())) eosIds.add(t.id());
        Optional<String> chatTemplate = meta.containsKey("tokenizer.chat_template")
                ? Optional.of(k.string("tokenizer.chat_template")) : Optional.empty();

        Normalizer normalizer;
        PreTokenizer pre;
        Model model;
        Decoder decoder;
        boolean addBosDefault;
        switch (modelName) {
            case "llama" -> {
                boolean spacePrefix = k.bool("tokenizer.ggml.add_space_prefix", true);
                Normalizer escape = new Normalizer.Replace(SplitPattern.literal(" "), "▁");
                normalizer = spacePrefix ? new Normalizer.Sequence(List.of(new Normalizer.Prepend("▁"), escape)) : escape;
                pre = new PreTokenizer.Sequence(List.of());
                model = llamaModel(k, tokens, types, ids);
                List<Decoder> steps = new ArrayList<>(List.of(new Decoder.Replace(SplitPattern.literal("▁"), " "),
                        new Decoder.ByteFallback(), new Decoder.Fuse()));
                if (spacePrefix) steps.add(new Decoder.Strip(' ', 1, 0));
                decoder = new Decoder.Sequence(steps);
                addBosDefault = true;
            }
            case "gpt2" -> {
                String preName = meta.containsKey("tokenizer.ggml.pre") ? k.string("tokenizer.ggml.pre") : "default";
                GgufPreTokenizers.Family family = GgufPreTokenizers.BY_NAME.get(preName);
                if (family == null) {
                    throw new TokenizerException(file, "tokenizer.ggml.pre",
                            "one of " + new TreeMap<>(GgufPreTokenizers.BY_NAME).keySet(), "\"" + preName + "\"");
                }
                normalizer = family.nfc() ? new Normalizer.Unicode(java.text.Normalizer.Form.NFC) : new Normalizer.Sequence(List.of());
                pre = GgufPreTokenizers.preTokenizer(family, file);
                model = new BpeModel(normalVocab(tokens, types), merges(k, ids), null, false, false, family.ignoreMerges(), "", "");
                decoder = new Decoder.ByteLevel();
                // llama.cpp adds BOS by default only for the Llama-3 family.
                addBosDefault = family.ignoreMerges();
            }
            default -> throw new TokenizerException(file, "tokenizer.ggml.model",
                    "\"llama\" (SentencePiece) or \"gpt2\" (byte-level BPE)", "\"" + modelName + "\"");
        }
        boolean addBos = k.bool("tokenizer.ggml.add_bos_token", addBosDefault);
        boolean addEos = k.bool("tokenizer.ggml.add_eos_token", false);
        if (addBos && bos.isEmpty()) throw new TokenizerException(file, "tokenizer.ggml.bos_token_id", "a token id, as add_bos_token is true", "none");
        if (addEos && eos.isEmpty()) throw new TokenizerException(file, "tokenizer.ggml.eos_token_id", "a token id, as add_eos_token is true", "none");
        PostProcessor post = PostProcessor.Template.of(addBos ? bos.getAsInt() : null, addEos ? eos.getAsInt() : null);

        String[] tokenArray = tokens.toArray(new String[0]); // UNUSED ("[PAD7]") tokens too: token(id) names them, encode never makes them
        return new PipelineTokenizer(new PipelineTokenizer.Parts(tokenArray, ids, new AddedVocabulary(added), normalizer, pre,
                model, post, decoder, false, bos, Set.copyOf(eosIds), chatTemplate));
    }

    /** SentencePiece: rank merges where the file has them, else llama.cpp's merge by score. */
    private static Model llamaModel(Keys k, List<String> tokens, int[] types, Map<String, Integer> ids) {
        Map<String, Integer> vocab = normalVocab(tokens, types);
        int[] byteIds = new int[256];
        java.util.Arrays.fill(byteIds, -1);
        Integer unk = null;
        for (int i = 0; i < tokens.size(); i++) {
            if (types[i] == BYTE) {
                int b = Decoder.ByteFallback.byteToken(tokens.get(i));
                if (b >= 0) byteIds[b] = i;
                vocab.put(tokens.get(i), i);
            }
            if (types[i] == UNKNOWN && unk == null) unk = i;
        }
        OptionalInt unkKey = k.optionalId("tokenizer.ggml.unknown_token_id", tokens.size());
        if (unkKey.isPresent()) unk = unkKey.getAsInt();
        if (k.has("tokenizer.ggml.merges")) {
            return new BpeModel(vocab, merges(k, ids), unk, true, true, false, "", "");
        }
        List<Double> scores = k.doubles("tokenizer.ggml.scores", tokens.size());
        // Priority: by score, best first; if all normal tokens share one score, by id (see SpmModel).
        List<Integer> normal = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) if (types[i] == NORMAL) normal.add(i);
        boolean informative = normal.stream().map(scores::get).distinct().count() > 1;
        if (informative) {
            normal.sort((a, b) -> Double.compare(scores.get(b), scores.get(a)));
        } else {
            // Llama/Mistral SentencePiece models number pieces in merge order, except the pieces made
            // only of "▁" (their tokenizer.model scores them -1e9: they merge after everything else).
            // Mistral's tokenizer.json merges follow exactly this order (TokGgufTest checks it).
            normal.sort(java.util.Comparator.comparing((Integer id) -> isAllMetaspace(tokens.get(id))).thenComparing(id -> id));
        }
        Map<String, Integer> rank = new HashMap<>(normal.size() * 2);
        double previous = Double.NaN;
        int r = -1;
        for (int i = 0; i < normal.size(); i++) {
            int id = normal.get(i);
            double s = scores.get(id);
            if (!informative || s != previous) r = i; // equal scores share a rank: the leftmost pair merges first
            previous = s;
            rank.putIfAbsent(tokens.get(id), r);
        }
        return new SpmModel(vocab, rank, byteIds, unk);
    }

    private static boolean isAllMetaspace(String token) {
        return !token.isEmpty() && token.chars().allMatch(c -> c == '\u2581');
    }

    /** Token -> id over normal tokens: what the model's merges may produce. */
    private static Map<String, Integer> normalVocab(List<String> tokens, int[] types) {
        Map<String, Integer> vocab = new HashMap<>(tokens.size() * 2);
        for (int i = 0; i < tokens.size(); i++) if (types[i] == NORMAL) vocab.putIfAbsent(tokens.get(i), i);
        return vocab;
    }

    /** {@code tokenizer.ggml.merges}: "a b" strings, rank = position. */
    private static LongLongMap merges(Keys k, Map<String, Integer> ids) {
        List<String> list = k.strings("tokenizer.ggml.merges");
        LongLongMap merges = new LongLongMap(list.size());
        for (int rank = 0; rank < list.size(); rank++) {
            if (rank % Interruption.EVERY == 0) Interruption.check("reading the vocabulary of " + k.file);
            String m = list.get(rank);
            int space = m.indexOf(' ', 1);
            String a = space < 0 ? null : m.substring(0, space), b = space < 0 ? null : m.substring(space + 1);
            Integer ia = a == null ? null : ids.get(a), ib = b == null ? null : ids.get(b);
            Integer im = a == null ? null : ids.get(a + b);
            if (ia == null || ib == null || im == null) {
                throw new TokenizerException(k.file, "tokenizer.ggml.merges[" + rank + "]",
                        "two tokens of tokenizer.ggml.tokens separated by a space, whose concatenation is a token too", "\"" + m + "\"");
            }
            merges.put(BpeModel.pair(ia, ib), ((long) rank << 32) | im);
        }
        return merges;
    }

    /** Typed metadata access whose errors name the file, key, expected and found type. */
    private record Keys(Map<String, Object> meta, String file) {
        boolean has(String key) {
            return meta.containsKey(key);
        }

        private Object get(String key) {
            Object v = meta.get(key);
            if (v == null) throw new TokenizerException(file, key, "a value", "nothing (key absent)");
            return v;
        }

        private TokenizerException wrong(String key, String expected, Object found) {
            String shown = found instanceof List<?> l ? "a list of " + l.size() : found.getClass().getSimpleName() + " " + abbreviate(found);
            return new TokenizerException(file, key, expected, shown);
        }

        private static String abbreviate(Object o) {
            String s = String.valueOf(o);
            return s.length() > 60 ? s.substring(0, 57) + "..." : s;
        }

        String string(String key) {
            Object v = get(key);
            if (!(v instanceof String s)) throw wrong(key, "a string", v);
            return s;
        }

        boolean bool(String key, boolean absent) {
            Object v = meta.get(key);
            if (v == null) return absent;
            if (!(v instanceof Boolean b)) throw wrong(key, "a bool", v);
            return b;
        }

        OptionalInt optionalId(String key, int vocabSize) {
            Object v = meta.get(key);
            if (v == null) return OptionalInt.empty();
            if (!(v instanceof Long l)) throw wrong(key, "an integer (Long)", v);
            if (l < 0 || l >= vocabSize) throw new TokenizerException(file, key, "a token id below " + vocabSize, String.valueOf(l));
            return OptionalInt.of(l.intValue());
        }

        List<String> strings(String key) {
            List<?> list = list(key, "a list of strings", -1);
            for (int i = 0; i < list.size(); i++) {
                if (!(list.get(i) instanceof String)) throw wrong(key + "[" + i + "]", "a string", list.get(i));
            }
            @SuppressWarnings("unchecked") List<String> strings = (List<String>) list;
            return strings;
        }

        List<Long> longs(String key, int size) {
            List<?> list = list(key, "a list of integers", size);
            for (int i = 0; i < list.size(); i++) {
                if (!(list.get(i) instanceof Long)) throw wrong(key + "[" + i + "]", "an integer (Long)", list.get(i));
            }
            @SuppressWarnings("unchecked") List<Long> longs = (List<Long>) list;
            return longs;
        }

        List<Double> doubles(String key, int size) {
            List<?> list = list(key, "a list of floats", size);
            List<Double> out = new ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) {
                if (!(list.get(i) instanceof Number num)) throw wrong(key + "[" + i + "]", "a float (Double)", list.get(i));
                out.add(num.doubleValue());
            }
            return out;
        }

        private List<?> list(String key, String expected, int size) {
            Object v = get(key);
            if (!(v instanceof List<?> list)) throw wrong(key, expected, v);
            if (size >= 0 && list.size() != size) {
                throw new TokenizerException(file, key, size + " entries (one per token of tokenizer.ggml.tokens)", list.size() + " entries");
            }
            return list;
        }
    }
}
