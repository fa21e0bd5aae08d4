package jmlc.engine.chat;

import java.util.List;

/**
 * A model family's chat format, rendered in Java to the exact text its Jinja
 * {@code chat_template} produces (we do not run Jinja). Stop strings are the texts of the tokens
 * that end an assistant turn; map them to ids with the tokenizer.
 */
public sealed interface ChatTemplate permits Llama2Template, Llama3Template, ChatMlTemplate, MistralTemplate {

    /** The name {@link ChatTemplates#byName} knows it by: llama2, llama3, chatml, mistral. */
    String name();

    /**
     * The prompt text for {@code messages}; with {@code addGenerationPrompt}, followed by what
     * starts the assistant's reply (formats without one, such as Llama-2's, ignore it).
     *
     * @throws IllegalArgumentException where the real template raises an exception (roles not alternating ...)
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** Token texts that end the assistant's turn, e.g. {@code <|eot_id|>}, {@code <|im_end|>}, {@code </s>}. */
    List<String> stopStrings();

    /** Python's {@code str.strip()} / Jinja's {@code trim}: removes leading and trailing white space. */
    static String strip(String s) {
        return s.strip();
    }

    /**
     * The Llama-2 and Mistral templates' first step: a leading system message (its content, or
     * null where there is none) and the user/assistant turns after it, checked to alternate.
     */
    record Turns(String system, List<ChatMessage> loop) {
        static Turns split(List<ChatMessage> messages, String template) {
            boolean hasSystem = !messages.isEmpty() && messages.getFirst().role().equals("system");
            Turns turns = hasSystem
                    ? new Turns(messages.getFirst().content(), messages.subList(1, messages.size()))
                    : new Turns(null, messages);
            requireAlternating(turns.loop, template);
            return turns;
        }
    }

    /** The user/assistant/user... order the Llama-2 and Mistral templates enforce after an optional system message. */
    static void requireAlternating(List<ChatMessage> loopMessages, String template) {
        for (int i = 0; i < loopMessages.size(); i++) {
            boolean user = loopMessages.get(i).role().equals("user");
            if (user != (i % 2 == 0)) {
                throw new IllegalArgumentException(template + " chat template: after the optional system message, roles must alternate"
                        + " user/assistant/user/...; message " + i + " is " + loopMessages.get(i).role());
            }
        }
    }
}
