package jmlc.magics.llm;

import jmlc.engine.api.ChatModule;
import jmlc.engine.bench.Spread;
import jmlc.engine.bench.WarmUp;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicArgs;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code %bench [--prompt TEXT] [--gen N] [--runs R] [--warmup W]}: MLC's benchmark on the loaded
 * model (encode the prompt, decode exactly N tokens greedily), W untimed warm-up runs then R timed
 * ones, as llama-bench does; shows the timed runs' prefill and decode speeds as a table with their
 * mean and standard deviation, and a chart of every run so far across devices and quantizations.
 */
public final class BenchMagic implements Magic {

    @Command(name = "bench", description = {
            "Benchmarks the loaded model as MLC does: encodes the prompt, then decodes exactly N tokens (greedy, stop tokens ignored). "
                    + "Untimed warm-up runs come first (the JIT compiles the CPU's loops, a GPU loads its kernels), then the timed runs. "
                    + "Shows this call's timed runs (prefill and decode tok/s, their mean and standard deviation) and a chart of the mean "
                    + "decode speed of every run so far, with its standard deviation, per device and model/quantization.",
            "The runs are kept in the session: Jmlc.benchmarks() from Java."})
    static final class Args {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "the prompt (default: ${DEFAULT-VALUE})", defaultValue = "Hi")
        String prompt;

        @Option(names = "--gen", paramLabel = "N", description = "tokens to decode per run (default: ${DEFAULT-VALUE}, as jmlc bench decodes)", defaultValue = "512")
        int gen;

        @Option(names = "--runs", paramLabel = "R", description = "timed runs (default: ${DEFAULT-VALUE})", defaultValue = "3")
        int runs;

        @Option(names = "--warmup", paramLabel = "W",
                description = "untimed warm-up runs first, each the same as a timed run (default: one, then more until 3 s have passed:"
                        + " the JIT goes on compiling for the first seconds)")
        Integer warmup;

        @Option(names = "--show", description = "measure nothing: show every run so far and the chart")
        boolean show;

        @Option(names = "--clear", description = "forget the runs so far")
        boolean clear;
    }

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "Benchmark prefill and decode tok/s: %bench [--gen 512] [--runs 3] [--warmup W]; a table and a chart of all runs.";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Object run(MagicContext ctx) throws Exception {
        Args args = ctx.parse(new Args());
        BenchHistory history = Llm.benchmarks(ctx.session());
        if (args.clear) {
            int n = history.size();
            history.clear();
            ctx.println("Forgot " + n + " benchmark run" + (n == 1 ? "" : "s") + ".");
            return null;
        }
        if (args.show) {
            ctx.display(history);
            return history.chart();
        }
        if (args.gen <= 0) throw new MagicException("%bench: --gen must be positive, found " + args.gen);
        if (args.runs <= 0) throw new MagicException("%bench: --runs must be positive, found " + args.runs);
        if (args.warmup != null && args.warmup < 0) throw new MagicException("%bench: --warmup must be 0 or more runs, found " + args.warmup);
        WarmUp warmUp = new WarmUp(args.warmup);
        if (args.prompt.isEmpty()) throw new MagicException("%bench: --prompt must not be empty");
        ChatModule cm = Llm.model(ctx.session());

        List<BenchRun> runs = new ArrayList<>();
        String label = "Benchmark " + cm.model().spec() + " on " + cm.model().runner().device().id()
                + ": " + warmUp.describe() + ", " + args.runs + " timed";
        int warmups = 0;
        try (Progress progress = ctx.progress(label, args.runs)) {
            long t0 = System.nanoTime();
            while (warmUp.another(warmups, System.nanoTime() - t0)) {
                ctx.checkInterrupted();
                progress.update(0, "warm-up run " + (warmups + 1) + ": decoding " + args.gen + " tokens (untimed)");
                try {
                    Background.run("jmlc-bench", () -> cm.benchmarkGenerate(args.prompt, args.gen), cm::cancel);
                } catch (IllegalArgumentException | jmlc.engine.generate.ContextWindowException | jmlc.engine.format.tensor.ModelFormatException e) {
                    throw new MagicException("%bench: " + e.getMessage(), e);
                }
                warmups++;
            }
            for (int i = 0; i < args.runs; i++) {
                ctx.checkInterrupted();
                progress.update(i, "run " + (i + 1) + ": decoding " + args.gen + " tokens");
                BenchRun run;
                try {
                    run = Background.run("jmlc-bench", () -> BenchRun.measure(cm, args.prompt, args.gen), cm::cancel);
                } catch (IllegalArgumentException | jmlc.engine.generate.ContextWindowException | jmlc.engine.format.tensor.ModelFormatException e) {
                    throw new MagicException("%bench: " + e.getMessage(), e);
                }
                if (run.decodeTokens() + 1 < args.gen) {
                    ctx.printErr("%bench: run " + (i + 1) + " decoded " + (run.decodeTokens() + 1) + " of " + args.gen
                            + " tokens: the context window (" + cm.model().runner().maxContext() + " tokens) is full."
                            + " Use a smaller --gen, or %reload --max-context N.");
                }
                runs.add(run);
                history.add(run);
                progress.update(i + 1, String.format("run %d: decode %.1f tok/s", i + 1, run.decodeTokensPerSecond()));
            }
            progress.done(runs.size() + (runs.size() == 1 ? " timed run" : " timed runs") + " after " + warmups + " warm-up run" + (warmups == 1 ? "" : "s"));
        }
        Spread prefill = Spread.of(runs.stream().map(BenchRun::prefillTokensPerSecond).toList());
        Spread decode = Spread.of(runs.stream().map(BenchRun::decodeTokensPerSecond).toList());
        ctx.display(TableView.of(BenchHistory.table("This benchmark (" + cm.model().spec() + ", " + cm.model().quant().id() + ", "
                + cm.model().runner().device().id() + "): prefill " + prefill.format() + " tok/s, decode " + decode.format() + " tok/s"
                + (runs.size() > 1 ? " (mean ± standard deviation)" : ""), runs)));
        return history.chart();
    }
}
