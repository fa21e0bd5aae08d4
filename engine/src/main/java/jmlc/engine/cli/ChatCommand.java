package jmlc.engine.cli;

import jmlc.engine.api.ChatModule;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.chat.ChatTemplates;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code jmlc chat MODEL}: an interactive chat, or one message per line of piped input. */
@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false, header = "Chat with a model (interactive, or one message per line of stdin).",
        description = {"Chat with a model. On a terminal: line editing and history; replies stream as they are generated; "
                + "Ctrl-C stops a reply, Ctrl-D or /exit leaves. With piped input: one message per line, replies on stdout; "
                + "the exit code is 1 if any line failed.",
                "Commands: /help /exit /stats /reset /system TEXT /reload [MODEL]."})
final class ChatCommand implements Callable<Integer> {
    private final CliContext ctx;
    @Spec CommandSpec spec;
    @Mixin ModelOptions model;
    @Mixin SamplingOptions sampling;

    @Option(names = "--system", paramLabel = "TEXT", description = "System prompt of the conversation.")
    String system;

    @Option(names = "--template", paramLabel = "NAME", description = "Chat template: llama2, llama3, chatml, mistral (default: detected from the model).")
    String template;

    @Option(names = "--max-tokens", paramLabel = "N",
            description = "The longest reply, in tokens (default: 1024; 64 for synthetic models, whose random weights seldom end a reply).")
    Integer maxTokens;

    ChatCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        LoadOptions opts = model.loadOptions(spec.commandLine());
        if (template != null) {
            if (!ChatTemplates.NAMES.contains(template.toLowerCase(Locale.ROOT)))
                throw new ParameterException(spec.commandLine(), "--template " + template + ": expected one of " + String.join(", ", ChatTemplates.NAMES));
            opts = opts.chatTemplate(template.toLowerCase(Locale.ROOT));
        }
        if (maxTokens != null && maxTokens <= 0) throw new ParameterException(spec.commandLine(), "--max-tokens must be positive, found " + maxTokens);
        var params = sampling.params(spec.commandLine());
        try (ChatModule cm = ModelOptions.load(ctx, model.model, opts)) {
            cm.setSampling(params);
            if (maxTokens != null) cm.setMaxReplyTokens(maxTokens);
            cm.setSystemPrompt(system);
            ctx.note("chat template " + cm.model().template().name() + " (" + cm.model().templateReason() + ")");
            if (ctx.terminal) ctx.note("type a message, or /help; Ctrl-C stops a reply, Ctrl-D leaves");
            ChatSession session = new ChatSession(ctx, cm);
            run(session);
            // piped input is a script: it fails when a line did (at a terminal the person saw each error)
            String failures = session.failures();
            if (failures != null && !ctx.terminal) {
                ctx.out.flush();
                ctx.err.println("jmlc: error: " + failures);
                ctx.err.flush();
                return Errors.FAILURE;
            }
        }
        return 0;
    }

    private void run(ChatSession session) {
        try (LineInput input = LineInput.open(ctx)) {
            String line;
            while ((line = input.readLine()) != null) {
                boolean[] more = {true};
                String l = line;
                input.interruptible(() -> {
                    // Ctrl-C stops a reply; elsewhere (loading a model) it quits, as it would anywhere
                    if (!session.interrupt()) System.exit(130);
                }, () -> more[0] = session.handle(l));
                if (!more[0]) break;
            }
        }
    }
}
