package jmlc.magics.core;

import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;

/**
 * Magic arguments, parsed by picocli from a shell-like line: words split on spaces, 'single' and
 * "double" quotes group words, a backslash escapes the next character.
 *
 * <pre>{@code
 * @Command(name = "load", description = "Loads a model.")   // write a literal % as %% in texts
 * static final class Args {
 *     @Parameters(paramLabel = "MODEL") String model;
 *     @Option(names = "--quant", defaultValue = "q4f16_1") String quant;
 * }
 * Args a = MagicArgs.parse("load", "synthetic:llama-2-7b --quant q4f16_1", new Args());
 * }</pre>
 */
public final class MagicArgs {

    private MagicArgs() {
    }

    /**
     * Fills {@code spec}'s annotated fields from {@code argLine}. A mistake throws a
     * {@link MagicException} naming it, followed by the usage; {@code -h} or {@code --help} (added to
     * every magic) throws {@link MagicException.HelpRequested}.
     */
    public static <T> T parse(String magicName, String argLine, T spec) {
        CommandLine cl = commandLine(magicName, spec);
        List<String> words;
        try {
            words = split(argLine);
        } catch (IllegalArgumentException e) {
            throw new MagicException("%" + magicName + ": " + e.getMessage());
        }
        try {
            cl.parseArgs(words.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new MagicException("%" + magicName + ": " + e.getMessage() + "\n\n" + usage(cl));
        }
        if (cl.isUsageHelpRequested()) throw new MagicException.HelpRequested(usage(cl));
        return spec;
    }

    /** The usage text of a picocli-annotated argument class, for {@link Magic#help()}. */
    public static String usage(String magicName, Object spec) {
        return usage(commandLine(magicName, spec));
    }

    private static CommandLine commandLine(String magicName, Object spec) {
        var cl = new CommandLine(spec);
        cl.setCommandName("%" + magicName);
        if (cl.getCommandSpec().options().stream().noneMatch(CommandLine.Model.OptionSpec::usageHelp)) {
            cl.getCommandSpec().addOption(CommandLine.Model.OptionSpec.builder("-h", "--help")
                    .usageHelp(true).description("Show this help.").build());
        }
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    private static String usage(CommandLine cl) {
        return cl.getUsageMessage(CommandLine.Help.Ansi.OFF).stripTrailing();
    }

    /** Splits a line into words as a POSIX shell would for plain words and quotes (no expansions). */
    public static List<String> split(String line) {
        var words = new ArrayList<String>();
        var word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < line.length()
                        && (line.charAt(i + 1) == '"' || line.charAt(i + 1) == '\\')) {
                    word.append(line.charAt(++i));
                } else {
                    word.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (c == '\\' && i + 1 < line.length()) {
                word.append(line.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (quote != 0) throw new IllegalArgumentException("unclosed " + quote + " quote in: " + line.strip());
        if (inWord) words.add(word.toString());
        return words;
    }
}
