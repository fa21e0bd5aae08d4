package jmlc.engine.chat;

import java.util.List;

/**
 * Llama-2-chat (meta-llama/Llama-2-*-chat-hf chat_template): every user turn is
 * {@code <s>[INST] text [/INST]}, every assistant turn {@code " text </s>"}, contents stripped;
 * a system message goes in {@code <<SYS>>\n...\n<</SYS>>\n\n} before the first user text.
 * There is no generation prompt: the reply follows "[/INST]".
 */
public record Llama2Template(String bos, String eos) implements ChatTemplate {

    public String name() {
        return "llama2";
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        ChatTemplate.Turns turns = ChatTemplate.Turns.split(messages, name());
        String system = turns.system();
        List<ChatMessage> loop = turns.loop();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < loop.size(); i++) {
            ChatMessage m = loop.get(i);
            // The template tests "system_message != false": an empty system message still counts.
            String content = i == 0 && system != null ? "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + m.content() : m.content();
            if (m.role().equals("user")) out.append(bos).append("[INST] ").append(ChatTemplate.strip(content)).append(" [/INST]");
            else out.append(' ').append(ChatTemplate.strip(content)).append(' ').append(eos);
        }
        return out.toString();
    }

    public List<String> stopStrings() {
        return List.of(eos);
    }
}
