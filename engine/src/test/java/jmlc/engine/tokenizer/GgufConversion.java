package jmlc.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Test helper: the GGUF tokenizer metadata llama.cpp's convert_hf_to_gguf.py writes for a Hugging
 * Face model directory, as a metadata map of the types the GGUF reader produces (String, Long,
 * Double, Boolean, List). Mirrors gguf-py: {@code _set_vocab_llama_hf} (LlamaHfVocab: every score
 * -1000, byte tokens BYTE, special ids CONTROL, no merges) for SentencePiece-style BPE files, and
 * {@code _set_vocab_gpt2} / {@code get_vocab_base} for byte-level files (added tokens CONTROL when
 * special or "looking special" (&lt;|...|&gt;), else USER_DEFINED; ids without a token padded as
 * "[PADn]" UNUSED; merges as "a b" strings), plus SpecialVocab's bos/eos ids and add_*_token flags.
 */
final class GgufConversion {
    private GgufConversion() {}

    static final long NORMAL = 1, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    /** SentencePiece (tokenizer.ggml.model = "llama") as _set_vocab_llama_hf writes it. */
    static Map<String, Object> llamaHf(Path modelDir) {
        JsonNode json = read(modelDir.resolve("tokenizer.json"));
        JsonNode config = read(modelDir.resolve("tokenizer_config.json"));
        JsonNode vocab = json.get("model").get("vocab");
        int n = vocab.size();
        String[] tokens = new String[n];
        vocab.properties().forEach(e -> tokens[e.getValue().intValue()] = e.getKey());
        Set<Integer> specialIds = new HashSet<>();
        json.get("added_tokens").forEach(t -> {
            if (t.get("special").booleanValue()) specialIds.add(t.get("id").intValue());
        });
        List<Object> tokenList = new ArrayList<>(), scores = new ArrayList<>(), types = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            tokenList.add(tokens[i]);
            scores.add(-1000.0);
            types.add(tokens[i].matches("<0x[0-9A-Fa-f]{2}>") ? BYTE : specialIds.contains(i) ? CONTROL : NORMAL);
        }
        Map<String, Object> meta = new HashMap<>();
        meta.put("tokenizer.ggml.model", "llama");
        meta.put("tokenizer.ggml.pre", "default");
        meta.put("tokenizer.ggml.tokens", tokenList);
        meta.put("tokenizer.ggml.scores", scores);
        meta.put("tokenizer.ggml.token_type", types);
        specialVocab(json, config, meta);
        return meta;
    }

    /**
     * The same vocabulary with scores as a SentencePiece tokenizer.model carries them (what
     * _set_vocab_sentencepiece writes): a piece scores higher the earlier the merge that makes it.
     * Recovered from tokenizer.json's merges, whose order HF's converter took from those scores.
     */
    static Map<String, Object> withSentencePieceScores(Map<String, Object> llama, Path modelDir) {
        Map<String, Object> meta = new HashMap<>(llama);
        List<?> tokens = (List<?>) llama.get("tokenizer.ggml.tokens");
        Map<String, Integer> firstMerge = new HashMap<>();
        List<Object> merges = merges(read(modelDir.resolve("tokenizer.json")));
        for (int r = 0; r < merges.size(); r++) firstMerge.putIfAbsent(((String) merges.get(r)).replaceFirst(" ", ""), r);
        List<Object> scores = new ArrayList<>();
        for (Object t : tokens) scores.add(firstMerge.containsKey(t) ? (double) -firstMerge.get(t) : 0.0);
        meta.put("tokenizer.ggml.scores", scores);
        return meta;
    }

    /** The same vocabulary with tokenizer.json's merges written as tokenizer.ggml.merges. */
    static Map<String, Object> withMerges(Map<String, Object> llama, Path modelDir) {
        Map<String, Object> meta = new HashMap<>(llama);
        meta.put("tokenizer.ggml.merges", merges(read(modelDir.resolve("tokenizer.json"))));
        return meta;
    }

    /** Byte-level BPE (tokenizer.ggml.model = "gpt2") as _set_vocab_gpt2 writes it. */
    static Map<String, Object> gpt2(Path modelDir, String pre, int padTokens) {
        JsonNode json = read(modelDir.resolve("tokenizer.json"));
        JsonNode config = read(modelDir.resolve("tokenizer_config.json"));
        Map<Integer, String> reverse = new HashMap<>();
        json.get("model").get("vocab").properties().forEach(e -> reverse.put(e.getValue().intValue(), e.getKey()));
        Map<Integer, JsonNode> added = new HashMap<>();
        json.get("added_tokens").forEach(t -> added.put(t.get("id").intValue(), t));
        int maxId = reverse.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
        for (int id : added.keySet()) maxId = Math.max(maxId, id);
        int vocabSize = maxId + 1 + padTokens;
        List<Object> tokens = new ArrayList<>(), types = new ArrayList<>();
        for (int i = 0; i < vocabSize; i++) {
            if (added.containsKey(i)) {
                JsonNode t = added.get(i);
                String content = t.get("content").textValue();
                boolean looksSpecial = content.startsWith("<|") && content.endsWith("|>");
                if (t.get("special").booleanValue() || looksSpecial) {
                    tokens.add(content);
                    types.add(CONTROL);
                } else {
                    tokens.add(content.replace("\u2581", " ")); // "pre-normalize user-defined spaces"
                    types.add(USER_DEFINED);
                }
            } else if (reverse.containsKey(i)) {
                tokens.add(reverse.get(i));
                types.add(NORMAL);
            } else {
                tokens.add("[PAD" + i + "]");
                types.add(UNUSED);
            }
        }
        Map<String, Object> meta = new HashMap<>();
        meta.put("tokenizer.ggml.model", "gpt2");
        meta.put("tokenizer.ggml.pre", pre);
        meta.put("tokenizer.ggml.tokens", tokens);
        meta.put("tokenizer.ggml.token_type", types);
        meta.put("tokenizer.ggml.merges", merges(json));
        specialVocab(json, config, meta);
        return meta;
    }

    private static List<Object> merges(JsonNode json) {
        List<Object> merges = new ArrayList<>();
        json.get("model").get("merges").forEach(m -> merges.add(m.isTextual() ? m.textValue() : m.get(0).textValue() + " " + m.get(1).textValue()));
        return merges;
    }

    /** gguf-py SpecialVocab: bos/eos ids from tokenizer_config.json's tokens, add_bos/add_eos where the config says. */
    private static void specialVocab(JsonNode json, JsonNode config, Map<String, Object> meta) {
        Map<String, Integer> ids = new HashMap<>();
        json.get("model").get("vocab").properties().forEach(e -> ids.put(e.getKey(), e.getValue().intValue()));
        json.get("added_tokens").forEach(t -> ids.put(t.get("content").textValue(), t.get("id").intValue()));
        for (String kind : List.of("bos", "eos", "unk")) {
            JsonNode token = config.get(kind + "_token");
            if (token == null || token.isNull()) continue;
            String content = token.isObject() ? token.get("content").textValue() : token.textValue();
            String key = "tokenizer.ggml." + (kind.equals("unk") ? "unknown" : kind) + "_token_id";
            if (ids.containsKey(content)) meta.put(key, (long) ids.get(content));
        }
        for (String kind : List.of("bos", "eos")) {
            JsonNode flag = config.get("add_" + kind + "_token");
            if (flag != null && flag.isBoolean()) meta.put("tokenizer.ggml.add_" + kind + "_token", flag.booleanValue());
        }
        JsonNode template = config.get("chat_template");
        if (template != null && template.isTextual()) meta.put("tokenizer.chat_template", template.textValue());
    }

    private static JsonNode read(Path p) {
        try {
            return TokenizerFixtures.JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
