package jmlc.engine.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** The top of the command tree: the options every command takes, and the overview. */
@Command(name = "jmlc", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Compiles Llama-family language models into fused kernels for the device it finds, and runs chats and benchmarks.", ""},
        synopsisSubcommandLabel = "COMMAND",
        commandListHeading = "%nCommands:%n",
        footerHeading = "%nExamples:%n",
        footer = {
                "  jmlc demo                          a chat and a benchmark, no download",
                "  jmlc chat synthetic:tiny           chat (random weights: made-up words)",
                "  jmlc chat ~/models/Llama-2-7b-chat-hf    a Hugging Face directory or a .gguf",
                "  jmlc bench synthetic:llama-2-7b    decode tok/s and %% of the roofline",
                "  jmlc compile synthetic:llama-2-7b --target cuda:sm_90 --emit out/",
                "  jmlc tune synthetic:llama-2-7b --budget 5m    search each kernel's knobs here",
                "",
                "MODEL is a model directory (config.json, *.safetensors, tokenizer.json),",
                "a .gguf file, or synthetic:NAME (real shapes, random weights; see",
                "'jmlc help chat'). 'jmlc help COMMAND' shows a command's options.",
                "Exit codes: 0 ok, 1 failure, 2 usage error."})
final class JmlcCommand implements Callable<Integer> {
    private final CliContext ctx;
    @Spec CommandSpec spec;

    JmlcCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Show the stack trace of errors.")
    void debug(boolean on) {
        ctx.debug = on;
    }

    @Option(names = {"-q", "--quiet"}, scope = ScopeType.INHERIT, description = "No progress or notes on stderr.")
    void quiet(boolean on) {
        ctx.quiet = on;
    }

    /** {@code jmlc} alone: the overview. */
    @Override
    public Integer call() {
        spec.commandLine().usage(ctx.out);
        return 0;
    }
}
