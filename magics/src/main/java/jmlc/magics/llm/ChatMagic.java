package jmlc.magics.llm;

import jmlc.engine.api.ChatModule;
import jmlc.engine.chat.ChatMessage;
import jmlc.engine.sampling.SamplingParams;
import jmlc.magics.core.Html;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicArgs;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MimeBundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code %%chat}: the cell is the user's message; the reply streams in as it is generated. The stop
 * button ends the reply; what was generated stays in the conversation. {@code %chat} sets the options
 * (they persist), {@code %chat reset} starts a new conversation, {@code %chat} alone shows the settings
 * and the conversation.
 */
public final class ChatMagic implements Magic {

    @Command(name = "chat", description = {
            "%%%%chat [options] on a cell's first line: the rest of the cell is your message; the reply streams below. "
                    + "Stop the cell to end a reply early (the conversation keeps what was said).",
            "%%chat [options]: change the options (they persist, and options on a %%%%chat line persist too). "
                    + "%%chat reset: start a new conversation. %%chat MESSAGE: a one-line message. "
                    + "%%chat alone: the settings and the conversation so far."})
    static final class Args {
        @Parameters(arity = "0..*", paramLabel = "WORDS", description = "reset, or a one-line message")
        List<String> words = new ArrayList<>();

        @Option(names = "--system", paramLabel = "TEXT", description = "system prompt ('' for none); the conversation starts over")
        String system;

        @Option(names = "--temperature", paramLabel = "T", description = "0 picks the most likely token (greedy); default 0.7")
        Double temperature;

        @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling: keep the likeliest tokens up to probability P; 1 keeps all; default 0.95")
        Double topP;

        @Option(names = "--top-k", paramLabel = "K", description = "keep the K likeliest tokens; 0 keeps all (default)")
        Integer topK;

        @Option(names = "--repetition-penalty", paramLabel = "R", description = "penalize tokens already in the context; 1 is off (default)")
        Double repetitionPenalty;

        @Option(names = "--seed", paramLabel = "N", description = "seed of the sampler, so replies repeat")
        Long seed;

        @Option(names = "--max-tokens", paramLabel = "N", description = "longest reply in tokens; default 1024, or 64 for synthetic models (random weights seldom end a reply)")
        Integer maxTokens;

        boolean changesSettings() {
            return system != null || temperature != null || topP != null || topK != null || repetitionPenalty != null
                    || seed != null || maxTokens != null;
        }
    }

    @Override
    public String name() {
        return "chat";
    }

    @Override
    public String summary() {
        return "%%chat: the cell is a message to the model, the reply streams; %chat reset | --system | --temperature ...";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Set<Form> forms() {
        return Set.of(Form.LINE, Form.CELL);
    }

    @Override
    public Object run(MagicContext ctx) throws Exception {
        Args args = ctx.parse(new Args());
        String words = String.join(" ", args.words).strip();
        if (ctx.form() == Form.CELL && !words.isEmpty()) {
            throw new MagicException("%%chat: the message is the cell below the %%chat line; on the line itself only options "
                    + "(found '" + words + "')");
        }
        if (args.changesSettings()) settings(ctx, args);
        if (ctx.form() == Form.CELL) return chat(ctx, ctx.body().strip());
        if (words.equals("reset")) {
            Llm.model(ctx.session()).resetChat();
            ctx.println("The conversation starts over.");
            return null;
        }
        if (!words.isEmpty()) return chat(ctx, words);
        return args.changesSettings() ? null : show(ctx);
    }

    /** Applies the options given to the session's settings and to the loaded model. */
    private static void settings(MagicContext ctx, Args a) {
        ChatSettings s = Llm.chatSettings(ctx.session());
        try {
            SamplingParams p = s.sampling();
            if (a.temperature != null) p = p.withTemperature(a.temperature);
            if (a.topP != null) p = p.withTopP(a.topP);
            if (a.topK != null) p = p.withTopK(a.topK);
            if (a.repetitionPenalty != null) p = p.withRepetitionPenalty(a.repetitionPenalty);
            if (a.seed != null) p = p.withSeed(a.seed);
            s = s.withSampling(p);
            if (a.maxTokens != null) s = s.withMaxTokens(a.maxTokens);
            if (a.system != null) s = s.withSystemPrompt(a.system);
        } catch (IllegalArgumentException e) {
            throw new MagicException("%chat: " + e.getMessage());
        }
        ctx.session().put(Llm.CHAT, s);
        var cm = ctx.session().get(Llm.MODEL);
        if (cm.isPresent()) {
            s.applyTo(cm.get());
            if (a.system != null) cm.get().resetChat();
        }
        if (ctx.form() == Form.LINE) {
            ctx.println("Chat settings: " + s.describe() + (a.system != null && cm.isPresent() ? ". The conversation starts over." : "."));
        }
    }

    private static Object chat(MagicContext ctx, String message) throws Exception {
        if (message.isEmpty()) throw new MagicException("%%chat: the cell is empty: write your message below the %%chat line");
        ChatModule cm = Llm.model(ctx.session());
        try {
            Background.run("jmlc-chat", () -> cm.chat(message, ctx::print), cm::cancel);
        } catch (InterruptedException e) {
            ctx.println("\n[stopped: the reply so far stays in the conversation]");
            throw e;
        } catch (IllegalArgumentException | jmlc.engine.generate.ContextWindowException | jmlc.engine.format.tensor.ModelFormatException e) {
            throw new MagicException("%chat: " + e.getMessage(), e);
        }
        ctx.println("");
        return null;
    }

    private static MimeBundle show(MagicContext ctx) {
        ChatSettings s = Llm.chatSettings(ctx.session());
        var text = new StringBuilder("Chat settings: " + s.describe() + "\n");
        var html = new StringBuilder("<p><b>Chat settings:</b> " + Html.escape(s.describe()) + "</p>");
        var cm = ctx.session().get(Llm.MODEL);
        List<ChatMessage> conversation = cm.map(ChatModule::conversation).orElse(List.of());
        if (cm.isEmpty()) {
            text.append("No model loaded: %load MODEL first.");
            html.append("<p>No model loaded: <code>%load MODEL</code> first.</p>");
        } else if (conversation.isEmpty()) {
            text.append("No conversation yet: write a message below a %%chat line.");
            html.append("<p>No conversation yet: write a message below a <code>%%chat</code> line.</p>");
        } else {
            html.append("<table>");
            for (ChatMessage m : conversation) {
                text.append(m.role()).append(": ").append(m.content()).append('\n');
                html.append("<tr><th style=\"text-align:left;vertical-align:top\">").append(Html.escape(m.role()))
                        .append("</th><td style=\"text-align:left;white-space:pre-wrap\">").append(Html.escape(m.content())).append("</td></tr>");
            }
            html.append("</table>");
        }
        return MimeBundle.html(html.toString()).withText(text.toString().stripTrailing());
    }
}
