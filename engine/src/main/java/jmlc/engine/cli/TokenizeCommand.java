package jmlc.engine.cli;

import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.Checkpoints;
import jmlc.engine.format.GgufCheckpoint;
import jmlc.engine.format.HfCheckpoint;
import jmlc.engine.format.ModelPaths;
import jmlc.engine.model.SyntheticModels;
import jmlc.engine.tokenizer.SyntheticTokenizer;
import jmlc.engine.tokenizer.Tokenizer;
import jmlc.engine.tokenizer.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code jmlc tokenize TOKENIZER TEXT}: token ids as JSON; {@code --decode IDS}: the text. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, sortOptions = false, header = "Encode text to token ids (JSON), or decode ids to text.",
        description = {"Encode TEXT and print {\"tokens\":[...]}, or with --decode print the text of token ids. "
                + "TOKENIZER is a tokenizer.json, a model directory, a .gguf file (its embedded vocabulary), or synthetic:NAME."})
final class TokenizeCommand implements Callable<Integer> {
    private final CliContext ctx;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TOKENIZER", description = "A tokenizer.json, a model directory, a .gguf file, or synthetic:NAME.")
    String source;

    @Parameters(index = "1", arity = "0..1", paramLabel = "TEXT", description = "The text to encode.")
    String text;

    @Option(names = "--decode", paramLabel = "IDS", converter = Converters.TokenIdsConverter.class, description = "Print the text of these ids instead: 1,450,4996.")
    Converters.TokenIds decode;

    @Option(names = "--no-special", description = "Encode without special tokens (no BOS); decode leaving special tokens out.")
    boolean noSpecial;

    TokenizeCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() throws Exception {
        if ((text == null) == (decode == null))
            throw new ParameterException(spec.commandLine(), text == null ? "expected TEXT to encode, or --decode IDS" : "give TEXT or --decode IDS, not both");
        Tokenizer tok = load(spec, source);
        if (decode != null) {
            for (int id : decode.ids())
                if (id >= tok.vocabSize()) throw new ParameterException(spec.commandLine(), "--decode: token id " + id + " is outside the vocabulary (0.." + (tok.vocabSize() - 1) + ")");
            ctx.out.println(tok.decode(decode.ids(), noSpecial));
        } else {
            ctx.out.println(ctx.json.writeValueAsString(Map.of("tokens", tok.encode(text, !noSpecial))));
        }
        ctx.out.flush();
        return 0;
    }

    /** The tokenizer of a tokenizer.json, a model directory, a .gguf file or a synthetic model. */
    static Tokenizer load(CommandSpec spec, String source) {
        if (SyntheticModels.isSynthetic(source)) {
            var c = SyntheticModels.find(source).orElseThrow(() -> new ParameterException(spec.commandLine(),
                    "unknown synthetic model '" + source + "': expected one of " + ModelOptions.syntheticNames()));
            return new SyntheticTokenizer(c.vocabSize());
        }
        Path p = ModelPaths.of(source);
        if (!Files.exists(p))
            throw new ParameterException(spec.commandLine(), "TOKENIZER '" + source + "': no such file or directory (expected a tokenizer.json, a model directory, a .gguf file, or synthetic:NAME)");
        if (Files.isRegularFile(p) && !p.getFileName().toString().endsWith(".json")) {
            try (Checkpoint c = Checkpoints.openUnchecked(p)) {
                return switch (c) {
                    case GgufCheckpoint g -> Tokenizers.fromGguf(g.metadata(), g.path().toString());
                    case HfCheckpoint h -> Tokenizers.load(h.directory());
                };
            }
        }
        if (p.getFileName().toString().equals(HfCheckpoint.CONFIG) && p.toAbsolutePath().getParent() != null)
            return Tokenizers.load(p.toAbsolutePath().getParent()); // a model's config.json stands for its directory
        return Tokenizers.load(p);
    }
}
