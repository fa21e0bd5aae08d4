package jmlc.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * tokenizer.json {@code post_processor}: what encode adds around the ids when asked for special
 * tokens. Llama-2/Mistral: {@code TemplateProcessing} with {@code single: [<s>, $A]}; Llama-3
 * (later files): {@code Sequence[ByteLevel, TemplateProcessing(<|begin_of_text|> $A)]};
 * Qwen: {@code ByteLevel}, which changes no ids.
 */
sealed interface PostProcessor {

    /** The ids of a single sequence with the special tokens added. */
    int[] addSpecialTokens(int[] ids);

    /** {@code TemplateProcessing.single}: a list of pieces, each special-token ids or the sequence itself (null). */
    record Template(List<int[]> pieces) implements PostProcessor {
        public int[] addSpecialTokens(int[] ids) {
            IntList out = new IntList();
            for (int[] piece : pieces) out.addAll(piece == null ? ids : piece);
            return out.toArray();
        }

        /** {@code [bos?] $A [eos?]}: what transformers' LlamaTokenizerFast builds from add_bos_token / add_eos_token. */
        static Template of(Integer bos, Integer eos) {
            List<int[]> pieces = new ArrayList<>();
            if (bos != null) pieces.add(new int[] {bos});
            pieces.add(null);
            if (eos != null) pieces.add(new int[] {eos});
            return new Template(pieces);
        }
    }

    /** {@code ByteLevel} (offsets only) and absent post-processors: ids unchanged. */
    record None() implements PostProcessor {
        public int[] addSpecialTokens(int[] ids) {
            return ids;
        }
    }

    /** {@code Sequence}: {@code processors} in order. */
    record Sequence(List<PostProcessor> processors) implements PostProcessor {
        public int[] addSpecialTokens(int[] ids) {
            for (PostProcessor p : processors) ids = p.addSpecialTokens(ids);
            return ids;
        }
    }

    /** @param vocabSize ids must be below it: they go straight to the model */
    static PostProcessor parse(JsonAt json, int vocabSize) {
        if (!json.isPresent()) return new None();
        String type = json.string("type");
        return switch (type) {
            case "TemplateProcessing" -> parseTemplate(json, vocabSize);
            case "ByteLevel" -> new None();
            case "BertProcessing", "RobertaProcessing" -> new Template(List.of(
                    new int[] {id(json.get("cls").elements().get(1), vocabSize)}, null,
                    new int[] {id(json.get("sep").elements().get(1), vocabSize)}));
            case "Sequence" -> new Sequence(json.get("processors").elements().stream().map(p -> parse(p, vocabSize)).toList());
            default -> throw json.get("type").error(
                    "a supported post_processor (TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence)",
                    "\"" + type + "\"");
        };
    }

    /** {@code single: [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}]}, ids from {@code special_tokens}. */
    private static int id(JsonAt at, int vocabSize) {
        int id = at.integer();
        if (id < 0 || id >= vocabSize) throw at.error("a token id below " + vocabSize, String.valueOf(id));
        return id;
    }

    private static Template parseTemplate(JsonAt json, int vocabSize) {
        JsonAt specials = json.get("special_tokens");
        List<int[]> pieces = new ArrayList<>();
        for (JsonAt item : json.get("single").elements()) {
            if (item.get("Sequence").isPresent()) {
                pieces.add(null);
            } else if (item.get("SpecialToken").isPresent()) {
                String name = item.get("SpecialToken").string("id");
                JsonAt special = specials.get(name);
                if (!special.isPresent()) throw specials.error("an entry for \"" + name + "\"", "none");
                List<JsonAt> ids = special.get("ids").elements();
                int[] arr = new int[ids.size()];
                for (int i = 0; i < arr.length; i++) arr[i] = id(ids.get(i), vocabSize);
                pieces.add(arr);
            } else {
                throw item.error("{\"SpecialToken\": ...} or {\"Sequence\": ...}", item.describe());
            }
        }
        return new Template(pieces);
    }

}
