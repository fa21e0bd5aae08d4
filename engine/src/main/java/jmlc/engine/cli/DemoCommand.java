package jmlc.engine.cli;

import jmlc.engine.api.ChatModule;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.bench.WarmUp;
import jmlc.engine.sampling.SamplingParams;
import jmlc.engine.model.SyntheticModels;
import jmlc.engine.api.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code jmlc demo}: the main job on an embedded default, with no download: a small synthetic
 * model on the best device, a two-turn chat, then a short benchmark, saying what it does.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false, header = "A two-turn chat and a short benchmark on a small synthetic model.",
        description = {"Show what jmlc does, with no download: load a small synthetic model (real shapes, random weights, "
                + "so replies are made-up words) on the best device, chat for two turns, then run a short benchmark."})
final class DemoCommand implements Callable<Integer> {
    static final List<String> TURNS = List.of("Hello! What can you do?", "Tell me a short story about a GPU.");

    private final CliContext ctx;
    @Spec CommandSpec spec;

    @Option(names = "--model", paramLabel = "MODEL", defaultValue = "synthetic:tiny", description = "The model (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--device", paramLabel = "D", defaultValue = "auto", description = "The device (default: ${DEFAULT-VALUE}: the first found).")
    String device;

    @Option(names = "--gen", paramLabel = "N", defaultValue = "64", description = "Tokens to decode in the benchmark (default: ${DEFAULT-VALUE}).")
    int gen;

    @Option(names = "--reply-tokens", paramLabel = "N", defaultValue = "24", description = "The longest chat reply, in tokens (default: ${DEFAULT-VALUE}).")
    int replyTokens;

    DemoCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        ModelOptions.checkModel(spec.commandLine(), model);
        if (gen <= 0) throw new ParameterException(spec.commandLine(), "--gen must be a positive number of tokens, found " + gen);
        if (replyTokens <= 0) throw new ParameterException(spec.commandLine(), "--reply-tokens must be positive, found " + replyTokens);
        Backends.Resolved dev;
        try {
            dev = Backends.resolve(device);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--device " + device + ": " + e.getMessage());
        }
        var out = ctx.out;
        out.println("jmlc demo: " + model + " on " + dev.device()
                + (SyntheticModels.isSynthetic(model) ? " (random weights: the replies are made-up words, the speed is real)" : ""));
        out.println();
        out.println("1. load: build the graph, run the pass pipeline (quantize, fuse), make the weights, load them onto the device");
        out.flush();
        try (ChatModule cm = ModelOptions.load(ctx, model, LoadOptions.defaults().device(device))) {
            var phases = cm.model().compiled().pipeline().phases();
            out.printf(java.util.Locale.ROOT, "   %d graph nodes, %d after %d passes; %s of %s weights on %s%n",
                    phases.getFirst().graph().nodes().size(), phases.getLast().graph().nodes().size(), phases.size() - 1,
                    ProgressBar.bytes(cm.model().runner().weightBytes()), cm.model().quant(), cm.model().runner().device());
            out.println();
            out.println("2. chat: two turns through the chat template, replies streamed as they are generated; the KV cache keeps the conversation");
            cm.setSampling(SamplingParams.defaults().withSeed(7));
            cm.setMaxReplyTokens(replyTokens);
            for (String turn : TURNS) {
                out.println("   user:      " + turn);
                out.print("   assistant: ");
                out.flush();
                boolean[] started = {false};
                cm.chat(turn, piece -> {
                    String p = started[0] ? piece : piece.stripLeading(); // the reply starts at its first word
                    started[0] |= !p.isEmpty();
                    out.print(p.replace("\n", "\n              "));
                    out.flush();
                });
                out.println();
                out.println("              (" + ChatSession.stats(cm.stats()) + ")");
            }
            out.println();
            out.println("3. benchmark: 1-token prompt, " + gen + " greedy decoded tokens, batch 1; untimed warm-up runs, then 3 timed runs");
            out.flush();
            int[] prompt = Benchmark.prompt(cm.model().tokenizer(), null);
            Benchmark.Runs runs = Benchmark.run(ctx, cm, prompt, gen, WarmUp.auto(), 3);
            Optional<Bandwidth> bw = BenchCommand.bandwidth(ctx, cm.model().runner().device(), null);
            var result = new Benchmark.Result(prompt.length, gen, runs.warmups(), runs.timed(), Roofline.of(cm.model().compiled(), cm.model().runner().weightBytes()), bw);
            Benchmark.summary(result).forEach(l -> out.println("   " + l));
        }
        out.println();
        String next = "%-6s%-36s%s%n";
        out.printf(next, "next:", "jmlc chat " + model, "chat yourself (/help inside)");
        out.printf(next, "", "jmlc bench synthetic:llama-2-7b", "the benchmark on a 7B model's shapes");
        out.printf(next, "", "jmlc compile synthetic:llama-2-7b --target cuda:sm_90 --emit out/", "");
        out.printf(next, "", "", "the IR after each pass, and every CUDA kernel's source");
        out.printf(next, "", "jmlc help", "every command");
        out.flush();
        return 0;
    }
}
