package jmlc.engine.cli;

import picocli.CommandLine;

/**
 * The {@code jmlc} command-line tool: chat, bench, generate, logits, tokenize, compile, tune,
 * devices, demo. The launcher script at the repository root runs this class with Java 25 and the flags
 * every jmlc process needs.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        LauncherStderr.restore();
        CliContext ctx = CliContext.system();
        int code = run(ctx, args);
        ctx.out.flush();
        ctx.err.flush();
        awaitStderrFilter();
        System.exit(code);
    }

    /**
     * Runs one command line with these streams (no terminal: chat reads lines from {@code in}) and
     * returns its exit code: 0 ok, 1 failure, 2 usage error. For embedding the CLI and for tests.
     */
    public static int run(java.io.InputStream in, java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        return run(CliContext.of(in, out, err), args);
    }

    /**
     * The launcher pipes stderr through a filter (it drops the JVM's incubator notice), which is this
     * process's child: closing stderr ends it, and waiting for it puts the last line out before the
     * shell's next prompt (or a script's next command) instead of after.
     */
    private static void awaitStderrFilter() {
        if (!Boolean.getBoolean("jmlc.stderr.filtered")) return;
        System.err.flush();
        System.err.close();
        ProcessHandle.current().children().forEach(child -> {
            try {
                child.onExit().get(2, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                // exit anyway: at worst the filter's last line comes after the prompt
            }
        });
    }

    /** Runs one command line and returns its exit code: 0 ok, 1 failure, 2 usage error. */
    static int run(CliContext ctx, String... args) {
        try {
            return commandLine(ctx).execute(args);
        } catch (Error e) { // picocli lets Errors through: out of memory, a missing class ...
            return Errors.failure(ctx, e);
        }
    }

    static CommandLine commandLine(CliContext ctx) {
        CommandLine cl = new CommandLine(new JmlcCommand(ctx));
        // the commands, in the order `jmlc help` lists them
        cl.addSubcommand(new DemoCommand(ctx));
        cl.addSubcommand(new ChatCommand(ctx));
        cl.addSubcommand(new BenchCommand(ctx));
        cl.addSubcommand(new GenerateCommand(ctx));
        cl.addSubcommand(new LogitsCommand(ctx));
        cl.addSubcommand(new TokenizeCommand(ctx));
        cl.addSubcommand(new CompileCommand(ctx));
        cl.addSubcommand(new TuneCommand(ctx));
        cl.addSubcommand(new DevicesCommand(ctx));
        cl.getSubcommands().get("devices").getCommandSpec().usageMessage().description(DevicesCommand.description());
        cl.addSubcommand(new CommandLine.HelpCommand());
        cl.setOut(ctx.out);
        cl.setErr(ctx.err);
        cl.setUsageHelpAutoWidth(true);
        cl.setParameterExceptionHandler((e, args) -> Errors.usage(ctx, e));
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> Errors.failure(ctx, e));
        return cl;
    }
}
