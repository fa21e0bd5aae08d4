package jmlc.engine.generate;

/**
 * A prompt or conversation needs more positions than the model's KV cache holds. The message says
 * what to do about it, which depends on what overflowed: a conversation can be reset, a prompt
 * only shortened or given a longer context.
 */
public final class ContextWindowException extends RuntimeException {
    private final int needed;
    private final int window;

    private ContextWindowException(String message, int needed, int window) {
        super(message);
        this.needed = needed;
        this.window = window;
    }

    /** A chat turn after earlier ones: resetting the conversation frees the window. */
    public static ContextWindowException conversation(int needed, int window) {
        return new ContextWindowException("the conversation needs " + needed + " positions but the context window holds " + window
                + ": reset the chat (/reset, %reset, resetChat()) or send a shorter message", needed, window);
    }

    /**
     * {@code what} (a prompt, token ids) from position 0: only fewer tokens or a longer context
     * help; {@code modelWindow} is the longest context the model allows.
     */
    public static ContextWindowException tokens(String what, int needed, int window, int modelWindow) {
        String longer = window < modelWindow
                ? "or load the model with a longer context (--max-context, LoadOptions.maxContext; at most " + modelWindow + ")"
                : "the model allows no longer context";
        return new ContextWindowException(what + " needs " + needed + " positions but the context window holds " + window
                + ": use fewer tokens, " + longer, needed, window);
    }

    public int needed() {
        return needed;
    }

    public int window() {
        return window;
    }
}
