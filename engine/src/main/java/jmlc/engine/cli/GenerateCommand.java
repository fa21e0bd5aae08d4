package jmlc.engine.cli;

import jmlc.engine.api.ChatModule;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.generate.Generator;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code jmlc generate MODEL --tokens 1,450 | --prompt TEXT}: a completion, no chat template. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false, header = "Complete a prompt (text or token ids); print the text or the ids.",
        description = {"Complete a prompt (no chat template) and print the generated text, or with --json the generated token ids "
                + "as {\"tokens\":[...]}. Generation stops at an end-of-sequence token (unless --ignore-eos) or after --max-tokens; "
                + "where the context window fills first, what was generated is printed and the exit code is 1."})
final class GenerateCommand implements Callable<Integer> {
    private final CliContext ctx;
    @Spec CommandSpec spec;
    @Mixin ModelOptions model;

    static final class Input {
        @Option(names = "--tokens", paramLabel = "IDS", converter = Converters.TokenIdsConverter.class, required = true,
                description = "The prompt as token ids: 1,450,4996 (or a JSON array, as 'jmlc tokenize' prints).")
        Converters.TokenIds tokens;

        @Option(names = "--prompt", paramLabel = "TEXT", required = true, description = "The prompt as text, encoded with BOS.")
        String prompt;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "128", description = "The most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--ignore-eos", description = "Generate exactly --max-tokens tokens, ignoring end-of-sequence tokens.")
    boolean ignoreEos;

    @Option(names = "--json", description = "Print {\"tokens\":[...]}: the generated ids (prompt excluded).")
    boolean json;

    @Mixin SamplingOptions sampling;

    GenerateCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() throws Exception {
        var opts = model.loadOptions(spec.commandLine());
        if (maxTokens <= 0) throw new ParameterException(spec.commandLine(), "--max-tokens must be a positive number of tokens, found " + maxTokens);
        var params = sampling.params(spec.commandLine());
        try (ChatModule cm = ModelOptions.load(ctx, model.model, opts)) {
            var tok = cm.model().tokenizer();
            int[] ids = input.tokens != null ? input.tokens.ids() : tok.encode(input.prompt, true);
            checkIds(spec, "--tokens", ids, cm.model().config().vocabSize());
            if (ids.length == 0) throw new ParameterException(spec.commandLine(), "--prompt encodes to no tokens");
            Set<Integer> stop = ignoreEos ? Set.of() : tok.eosIds();
            ProgressBar bar = ProgressBar.after(ctx, ProgressBar.QUIET_SECONDS); // a slow model shows its progress
            int[] made = {0};
            int[] out = cm.generateTokens(ids, new GenerationConfig(maxTokens, params, stop, ignoreEos), id -> bar.update("generating", ++made[0], maxTokens));
            bar.clear();
            if (json) ctx.out.println(ctx.json.writeValueAsString(Map.of("tokens", out)));
            else ctx.out.println(tok.decode(out, true));
            ctx.note(ChatSession.stats(cm.stats()));
            if (cm.stopReason() == Generator.StopReason.CONTEXT_FULL) {
                int window = cm.model().runner().maxContext(), most = cm.model().config().maxPositions();
                throw new IllegalStateException("stopped after " + out.length + " of " + maxTokens + " tokens: the context window of " + window
                        + " positions is full (" + (window < most ? "raise --max-context, at most " + most + ", or " : "") + "lower --max-tokens)");
            }
        }
        ctx.out.flush();
        return 0;
    }

    /** Token ids a user typed are ids of this model's vocabulary. */
    static void checkIds(CommandSpec spec, String option, int[] ids, int vocab) {
        for (int id : ids)
            if (id >= vocab) throw new ParameterException(spec.commandLine(), option + ": token id " + id + " is outside the model's vocabulary (0.." + (vocab - 1) + ")");
    }
}
