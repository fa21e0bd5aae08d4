package jmlc.engine.chat;

/** One turn of a conversation: {@code role} is "system", "user" or "assistant". */
public record ChatMessage(String role, String content) {

    public ChatMessage {
        if (!role.equals("system") && !role.equals("user") && !role.equals("assistant")) {
            throw new IllegalArgumentException("chat role: expected system, user or assistant, found \"" + role + "\"");
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }
}
