package jmlc.engine.chat;

import java.util.List;

/**
 * ChatML (Qwen and others): {@code <|im_start|>role\ncontent<|im_end|>\n} per message, the
 * generation prompt {@code <|im_start|>assistant\n}. Variants, read from the model's template:
 * {@code defaultSystem}: a system message used when the conversation has none (Qwen2.5's
 * "You are Qwen, created by Alibaba Cloud..."); {@code qwen3Thinking}: Qwen3's handling of
 * {@code <think>} blocks: reasoning is dropped from assistant turns before the last user message,
 * and assistant turns after it are written with a {@code <think>} block (empty if they had none).
 */
public record ChatMlTemplate(String defaultSystem, boolean qwen3Thinking) implements ChatTemplate {

    public String name() {
        return "chatml";
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder out = new StringBuilder();
        if (defaultSystem != null && (messages.isEmpty() || !messages.getFirst().role().equals("system"))) {
            turn(out, "system", defaultSystem);
        }
        int lastUser = -1;
        for (int i = 0; i < messages.size(); i++) if (messages.get(i).role().equals("user")) lastUser = i;
        if (lastUser < 0) lastUser = messages.size() - 1; // Qwen3: last_query_index starts at the last message
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (!qwen3Thinking || !m.role().equals("assistant")) {
                turn(out, m.role(), m.content());
                continue;
            }
            String content = m.content(), reasoning = "";
            int close = content.indexOf("</think>");
            if (close >= 0) {
                // content.split('</think>')[-1].lstrip('\n'), reasoning: [0].rstrip('\n').split('<think>')[-1].lstrip('\n')
                content = stripLeadingNewlines(content.substring(content.lastIndexOf("</think>") + 8));
                String before = stripTrailingNewlines(m.content().substring(0, close));
                reasoning = stripLeadingNewlines(before.substring(before.lastIndexOf("<think>") < 0 ? 0 : before.lastIndexOf("<think>") + 7));
            }
            out.append("<|im_start|>assistant\n");
            if (i > lastUser && (i == messages.size() - 1 || !reasoning.isEmpty())) {
                out.append("<think>\n").append(stripTrailingNewlines(stripLeadingNewlines(reasoning))).append("\n</think>\n\n")
                        .append(stripLeadingNewlines(content));
            } else {
                out.append(content);
            }
            out.append("<|im_end|>\n");
        }
        if (addGenerationPrompt) out.append("<|im_start|>assistant\n");
        return out.toString();
    }

    private static void turn(StringBuilder out, String role, String content) {
        out.append("<|im_start|>").append(role).append('\n').append(content).append("<|im_end|>\n");
    }

    private static String stripLeadingNewlines(String s) {
        int i = 0;
        while (i < s.length() && s.charAt(i) == '\n') i++;
        return s.substring(i);
    }

    private static String stripTrailingNewlines(String s) {
        int i = s.length();
        while (i > 0 && s.charAt(i - 1) == '\n') i--;
        return s.substring(0, i);
    }

    public List<String> stopStrings() {
        return List.of("<|im_end|>", "<|endoftext|>");
    }
}
