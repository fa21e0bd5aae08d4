package jmlc.engine.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Builds a tokenizer from Hugging Face files: tokenizer.json (the pipeline), tokenizer_config.json
 * (bos/eos tokens, add_bos_token, clean_up_tokenization_spaces, chat_template) and
 * generation_config.json (extra eos_token_id values), the latter two optional.
 */
final class HfTokenizerFiles {
    private HfTokenizerFiles() {}

    /** Field names are not interned or canonicalized: 128k vocabulary keys, each seen once, would only fill the tables. */
    private static final ObjectMapper JSON = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
            .disable(com.fasterxml.jackson.core.JsonFactory.Feature.INTERN_FIELD_NAMES)
            .disable(com.fasterxml.jackson.core.JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build());
    /** For whole files: garbage after the object is an error (the streaming reader checks that itself: its values are read one by one). */
    private static final ObjectMapper WHOLE_FILE = JSON.copy().enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** transformers classes whose fast tokenizer rebuilds the post-processor from add_bos_token/add_eos_token. */
    private static final Set<String> BOS_EOS_FROM_CONFIG = Set.of("LlamaTokenizer", "LlamaTokenizerFast",
            "CodeLlamaTokenizer", "CodeLlamaTokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast");

    static Tokenizer load(Path tokenizerJson, Optional<Path> config, Optional<Path> generationConfig) {
        TokenizerJsonReader.Parsed parsed = readTokenizerJson(tokenizerJson);
        JsonAt root = new JsonAt(tokenizerJson.toString(), "", parsed.rest());
        JsonAt cfg = config.isPresent() ? read(config.get()) : new JsonAt("tokenizer_config.json", "", JSON.missingNode());
        JsonAt gen = generationConfig.isPresent() ? read(generationConfig.get()) : new JsonAt("generation_config.json", "", JSON.missingNode());

        JsonAt modelJson = root.get("model");
        if (!modelJson.isPresent()) throw modelJson.error("a \"model\" object", "nothing (key absent)");
        String type = modelJson.get("type").isPresent() ? modelJson.string("type") : (modelJson.get("merges").isPresent() ? "BPE" : "");
        if (!type.equals("BPE")) {
            throw modelJson.get("type").error("\"BPE\" (the model Llama, Mistral and Qwen use; Unigram, WordPiece and WordLevel are not supported)",
                    type.isEmpty() ? modelJson.get("type").describe() : "\"" + type + "\"");
        }

        // model.vocab: token -> id; added_tokens may add ids past it (or restate ids inside it).
        Map<String, Integer> modelVocab = parsed.vocab();
        if (modelVocab == null) throw modelJson.get("vocab").error("an object of token -> id", modelJson.get("vocab").describe());
        List<JsonAt> addedJson = root.get("added_tokens").isPresent() ? root.get("added_tokens").elements() : List.of();
        // ids index the token table: bounded by the number of entries before the table is allocated
        // (an id of 2^31-1 in a 5 KB file would otherwise ask for a table of 2^31 entries)
        long entries = (long) modelVocab.size() + addedJson.size();
        int maxId = -1;
        for (var e : modelVocab.entrySet()) {
            if (e.getValue() >= entries) throw new TokenizerException(tokenizerJson.toString(), "model.vocab." + e.getKey(), idBelow(entries), String.valueOf(e.getValue()));
            maxId = Math.max(maxId, e.getValue());
        }
        List<AddedToken> addedTokens = new ArrayList<>();
        for (JsonAt t : addedJson) {
            int id = t.integer("id");
            if (id < 0 || id >= entries) throw t.get("id").error(idBelow(entries), String.valueOf(id));
            AddedToken token = new AddedToken(id, t.string("content"), t.bool("special", false),
                    t.bool("lstrip", false), t.bool("rstrip", false), t.bool("single_word", false), t.bool("normalized", !t.bool("special", false)));
            addedTokens.add(token);
            maxId = Math.max(maxId, token.id());
        }
        String[] tokens = new String[maxId + 1];
        Map<String, Integer> ids = new HashMap<>(modelVocab);
        modelVocab.forEach((token, id) -> tokens[id] = token);
        for (AddedToken t : addedTokens) {
            tokens[t.id()] = t.content();
            ids.put(t.content(), t.id());
        }

        BpeModel model = bpe(modelJson, modelVocab, parsed.merges());
        Normalizer normalizer = Normalizer.parse(root.get("normalizer"));
        PreTokenizer preTokenizer = PreTokenizer.parse(root.get("pre_tokenizer"));
        Decoder decoder = Decoder.parse(root.get("decoder"));
        PostProcessor post = PostProcessor.parse(root.get("post_processor"), tokens.length);

        OptionalInt bos = specialToken(cfg, "bos_token", ids);
        OptionalInt eos = specialToken(cfg, "eos_token", ids);
        String tokenizerClass = cfg.get("tokenizer_class").isPresent() ? cfg.string("tokenizer_class") : "";
        if (BOS_EOS_FROM_CONFIG.contains(tokenizerClass)) {
            // LlamaTokenizerFast.update_post_processor(): [bos] $A [eos] per add_bos_token (default true) / add_eos_token (default false).
            boolean addBos = cfg.bool("add_bos_token", true), addEos = cfg.bool("add_eos_token", false);
            if ((addBos && bos.isEmpty()) || (addEos && eos.isEmpty())) {
                throw cfg.get(addBos && bos.isEmpty() ? "bos_token" : "eos_token").error("a token of the vocabulary, as add_*_token is true", "none");
            }
            post = PostProcessor.Template.of(addBos ? bos.getAsInt() : null, addEos ? eos.getAsInt() : null);
        }
        Set<Integer> eosIds = new LinkedHashSet<>();
        eos.ifPresent(eosIds::add);
        JsonAt genEos = gen.get("eos_token_id");
        if (genEos.isPresent()) {
            if (genEos.node().isArray()) for (JsonAt e : genEos.elements()) eosIds.add(e.integer());
            else eosIds.add(genEos.integer());
        }
        return new PipelineTokenizer(new PipelineTokenizer.Parts(tokens, ids, new AddedVocabulary(addedTokens), normalizer,
                preTokenizer, model, post, decoder, cfg.bool("clean_up_tokenization_spaces", false), bos,
                Set.copyOf(eosIds), chatTemplate(cfg)));
    }

    private static String idBelow(long entries) {
        return "an id below " + entries + " (the number of model.vocab entries and added_tokens)";
    }

    /** {@code model} of type BPE: vocab, merges ("a b" strings or [a, b] pairs, rank = position), options. */
    private static BpeModel bpe(JsonAt model, Map<String, Integer> vocab, List<String[]> list) {
        String prefix = model.get("continuing_subword_prefix").isPresent() ? model.string("continuing_subword_prefix") : "";
        String suffix = model.get("end_of_word_suffix").isPresent() ? model.string("end_of_word_suffix") : "";
        LongLongMap merges = new LongLongMap(list.size());
        for (int rank = 0; rank < list.size(); rank++) {
            if (rank % Interruption.EVERY == 0) Interruption.check("reading " + model.file());
            String a = list.get(rank)[0], b = list.get(rank)[1];
            String merged = a + (!prefix.isEmpty() && b.startsWith(prefix) ? b.substring(prefix.length()) : b);
            Integer ia = vocab.get(a), ib = vocab.get(b), im = vocab.get(merged);
            if (ia == null || ib == null || im == null) {
                String missing = ia == null ? a : ib == null ? b : merged;
                throw new TokenizerException(model.file(), "model.merges[" + rank + "]", "tokens of model.vocab",
                        "\"" + missing + "\", which is not in model.vocab");
            }
            merges.put(BpeModel.pair(ia, ib), ((long) rank << 32) | im);
        }
        Integer unk = null;
        if (model.get("unk_token").isPresent()) {
            unk = vocab.get(model.string("unk_token"));
            if (unk == null) throw model.get("unk_token").error("a token of model.vocab", model.get("unk_token").describe());
        }
        // model.dropout only matters when training; encoding here is always deterministic.
        return new BpeModel(vocab, merges, unk, model.bool("fuse_unk", false), model.bool("byte_fallback", false),
                model.bool("ignore_merges", false), prefix, suffix);
    }

    /** tokenizer_config.json's {@code bos_token}/{@code eos_token}: a string, an AddedToken object {content: ...}, or null. */
    private static OptionalInt specialToken(JsonAt cfg, String key, Map<String, Integer> ids) {
        JsonAt at = cfg.get(key);
        if (!at.isPresent()) return OptionalInt.empty();
        String content = at.node().isObject() ? at.string("content") : at.string();
        Integer id = ids.get(content);
        if (id == null) throw at.error("a token of tokenizer.json's vocabulary", "\"" + content + "\"");
        return OptionalInt.of(id);
    }

    /** {@code chat_template}: a string, or a list of {name, template} where "default" is the chat template. */
    private static Optional<String> chatTemplate(JsonAt cfg) {
        JsonAt at = cfg.get("chat_template");
        if (!at.isPresent()) return Optional.empty();
        if (at.node().isTextual()) return Optional.of(at.string());
        List<JsonAt> named = at.elements();
        for (JsonAt t : named) if (t.string("name").equals("default")) return Optional.of(t.string("template"));
        throw at.error("a string, or a list holding {\"name\": \"default\", \"template\": ...}",
                "names " + named.stream().map(t -> t.string("name")).toList());
    }

    private static TokenizerJsonReader.Parsed readTokenizerJson(Path file) {
        try {
            return TokenizerJsonReader.read(JSON, file);
        } catch (JacksonException e) {
            throw invalidJson(file.toString(), e);
        } catch (IOException e) {
            throw new TokenizerException(file.toString(), "(file)", "a readable file", e.toString(), e);
        }
    }

    private static TokenizerException invalidJson(String name, JacksonException e) {
        String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
        return new TokenizerException(name, "(json)", "valid JSON", e.getOriginalMessage() + where, e);
    }

    static JsonAt read(Path file) {
        String name = file.toString();
        if (!Files.isRegularFile(file)) throw new TokenizerException(name, "(file)", "a readable file", Files.exists(file) ? "not a regular file" : "no such file");
        try {
            JsonNode node = WHOLE_FILE.readTree(file.toFile());
            if (node == null || node.isMissingNode()) throw new TokenizerException(name, "(json)", "a JSON object", "an empty file");
            if (!node.isObject()) throw new TokenizerException(name, "(top level)", "a JSON object", node.getNodeType().toString().toLowerCase());
            return new JsonAt(name, "", node);
        } catch (JacksonException e) {
            throw invalidJson(name, e);
        } catch (IOException e) {
            throw new TokenizerException(name, "(file)", "a readable file", e.toString(), e);
        }
    }
}
