package jmlc.engine.chat;

import java.util.List;

/**
 * Mistral-Instruct (the v0.2/v0.3 and Mixtral chat_template): {@code <s>} once, then
 * {@code " [INST] text [/INST]"} per user turn and {@code " text</s>"} per assistant turn; a
 * system message has no block of its own but is prepended to the first user text with a blank
 * line. Contents are not stripped. No generation prompt.
 */
public record MistralTemplate(String bos, String eos) implements ChatTemplate {

    public String name() {
        return "mistral";
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        ChatTemplate.Turns turns = ChatTemplate.Turns.split(messages, name());
        String system = turns.system();
        List<ChatMessage> loop = turns.loop();
        StringBuilder out = new StringBuilder(bos);
        for (int i = 0; i < loop.size(); i++) {
            ChatMessage m = loop.get(i);
            if (m.role().equals("user")) {
                String text = i == 0 && system != null ? system + "\n\n" + m.content() : m.content();
                out.append(" [INST] ").append(text).append(" [/INST]");
            } else {
                out.append(' ').append(m.content()).append(eos);
            }
        }
        return out.toString();
    }

    public List<String> stopStrings() {
        return List.of(eos);
    }
}
