package jmlc.engine.cli;

import jmlc.engine.api.ChatModule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code jmlc logits MODEL --tokens 1,450,4996}: every position's logits, as JSON, for comparing with other engines. */
@Command(name = "logits", mixinStandardHelpOptions = true, sortOptions = false, header = "Print the logits after each position of token ids, as JSON.",
        description = {"Run the model over token ids and print the logits after each position as JSON: "
                + "{\"tokens\":[...],\"logits\":[[...vocab values...], ...]}, one row per position."})
final class LogitsCommand implements Callable<Integer> {
    private final CliContext ctx;
    @Spec CommandSpec spec;
    @Mixin ModelOptions model;

    @Option(names = "--tokens", paramLabel = "IDS", required = true, converter = Converters.TokenIdsConverter.class,
            description = "Token ids: 1,450,4996 (or a JSON array, as 'jmlc tokenize' prints).")
    Converters.TokenIds tokens;

    LogitsCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() throws Exception {
        var opts = model.loadOptions(spec.commandLine()).allLogits(true);
        try (ChatModule cm = ModelOptions.load(ctx, model.model, opts)) {
            GenerateCommand.checkIds(spec, "--tokens", tokens.ids(), cm.model().config().vocabSize());
            int window = cm.model().runner().maxContext(), most = cm.model().config().maxPositions();
            if (tokens.ids().length > window)
                throw new ParameterException(spec.commandLine(), "--tokens: " + tokens.ids().length + " ids need " + tokens.ids().length
                        + " positions but the context window holds " + window + " (" + (window < most ? "raise --max-context, at most " + most + ", or " : "") + "pass fewer ids)");
            float[][] logits = cm.logits(tokens.ids());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("tokens", tokens.ids());
            m.put("logits", logits);
            ctx.json.writeValue(ctx.out, m);
            ctx.out.println();
        }
        ctx.out.flush();
        return 0;
    }
}
