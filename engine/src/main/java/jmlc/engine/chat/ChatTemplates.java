package jmlc.engine.chat;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import jmlc.engine.tokenizer.Tokenizer;

/**
 * Chooses a {@link ChatTemplate}: by name, or by recognizing the model's Jinja chat_template
 * (tokenizer_config.json or GGUF tokenizer.chat_template) from the markers each family's
 * template contains. An unrecognized or absent template falls back on the tokenizer's special
 * tokens, and the {@link Detection} says which template was chosen and why.
 */
public final class ChatTemplates {
    private ChatTemplates() {}

    public static final List<String> NAMES = List.of("llama2", "llama3", "chatml", "mistral");

    /** Qwen2/2.5's default system message, written when a conversation has none. */
    static final String QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

    /** The chosen template; {@code recognized} is false when it is a fallback, and {@code reason} says why. */
    public record Detection(ChatTemplate template, boolean recognized, String reason) {}

    /** A template by name (llama2, llama3, chatml, mistral) with its family's usual BOS/EOS texts. */
    public static ChatTemplate byName(String name) {
        return byName(name, null, null);
    }

    /** A template by name; {@code bos}/{@code eos} (null: the family's usual ones) are the texts the template writes. */
    public static ChatTemplate byName(String name, String bos, String eos) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "llama2" -> new Llama2Template(or(bos, "<s>"), or(eos, "</s>"));
            case "llama3" -> new Llama3Template(or(bos, "<|begin_of_text|>"), false);
            case "chatml" -> new ChatMlTemplate(null, false);
            case "mistral" -> new MistralTemplate(or(bos, "<s>"), or(eos, "</s>"));
            default -> throw new IllegalArgumentException("chat template: expected one of " + NAMES + ", found \"" + name + "\"");
        };
    }

    /** Recognizes the tokenizer's own chat template, else falls back on its special tokens. */
    public static Detection detect(Tokenizer tokenizer) {
        String bos = tokenizer.bosId().isPresent() ? tokenizer.token(tokenizer.bosId().getAsInt()) : null;
        String eos = tokenizer.tokenId("</s>").isPresent() ? "</s>"
                : tokenizer.eosIds().stream().sorted().findFirst().map(tokenizer::token).orElse(null);
        Optional<String> template = tokenizer.chatTemplate();
        if (template.isPresent()) {
            Optional<Detection> known = recognize(template.get(), bos, eos);
            if (known.isPresent()) return known.get();
        }
        String why = template.isPresent() ? "the model's chat_template matches none of " + NAMES : "the model has no chat_template";
        if (tokenizer.tokenId("<|start_header_id|>").isPresent()) {
            return new Detection(byName("llama3", bos, eos), false, why + "; chose llama3 because the vocabulary has <|start_header_id|>");
        }
        if (tokenizer.tokenId("<|im_start|>").isPresent()) {
            return new Detection(byName("chatml", bos, eos), false, why + "; chose chatml because the vocabulary has <|im_start|>");
        }
        return new Detection(byName("llama2", bos, eos), false, why + "; chose llama2 ([INST] with <<SYS>>), the default for other vocabularies");
    }

    /** Recognizes a Jinja chat_template by its markers; empty when it is none of ours. */
    public static Optional<Detection> recognize(String jinja, String bos, String eos) {
        if (jinja.contains("<|start_header_id|>")) {
            boolean always = !jinja.contains("add_generation_prompt");
            String why = "chat_template writes <|start_header_id|> headers" + (always ? " and always ends with the assistant header" : "");
            if (jinja.contains("Cutting Knowledge Date")) {
                return Optional.of(new Detection(new Llama3Template(or(bos, "<|begin_of_text|>"), always), false,
                        "chat_template is Llama-3.1's (date preamble, tools), rendered as llama3 without its system preamble"));
            }
            return Optional.of(new Detection(new Llama3Template(or(bos, "<|begin_of_text|>"), always), true, why));
        }
        if (jinja.contains("<|im_start|>")) {
            String system = jinja.contains(QWEN_DEFAULT_SYSTEM) ? QWEN_DEFAULT_SYSTEM : null;
            boolean thinking = jinja.contains("</think>") && jinja.contains("reasoning_content");
            String why = "chat_template writes <|im_start|> turns (ChatML)" + (system != null ? " with Qwen's default system message" : "")
                    + (thinking ? " with Qwen3's <think> handling" : "");
            return Optional.of(new Detection(new ChatMlTemplate(system, thinking), true, why));
        }
        if (jinja.contains("<<SYS>>")) {
            return Optional.of(new Detection(byName("llama2", bos, eos), true, "chat_template writes [INST] with a <<SYS>> block (Llama-2)"));
        }
        if (jinja.contains("[INST]")) {
            return Optional.of(new Detection(byName("mistral", bos, eos), true, "chat_template writes [INST] without <<SYS>> (Mistral)"));
        }
        return Optional.empty();
    }

    /** Ids that end the assistant's turn: the tokenizer's EOS ids and the template's stop tokens. */
    public static Set<Integer> stopTokenIds(ChatTemplate template, Tokenizer tokenizer) {
        Set<Integer> ids = new LinkedHashSet<>(tokenizer.eosIds());
        for (String s : template.stopStrings()) {
            OptionalInt id = tokenizer.tokenId(s);
            if (id.isPresent()) ids.add(id.getAsInt());
        }
        return ids;
    }

    private static String or(String value, String fallback) {
        return value != null ? value : fallback;
    }
}
