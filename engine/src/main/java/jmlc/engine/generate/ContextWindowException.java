package jmlc.engine.generate;

/** A prompt or conversation needs more positions than the model's KV cache holds. */
public final class ContextWindowException extends RuntimeException {
    private final int needed;
    private final int window;

    public ContextWindowException(int needed, int window) {
        super("the conversation needs " + needed + " positions but the context window holds " + window
                + ": reset the chat (/reset, %reset, resetChat()) or shorten the prompt");
        this.needed = needed;
        this.window = window;
    }

    public int needed() {
        return needed;
    }

    public int window() {
        return window;
    }
}
