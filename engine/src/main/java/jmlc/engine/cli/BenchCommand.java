package jmlc.engine.cli;

import jmlc.engine.api.ChatModule;
import jmlc.engine.bench.WarmUp;
import jmlc.engine.runtime.DeviceInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code jmlc bench MODEL}: prefill and decode speed, and % of the memory-bandwidth roofline. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false, header = "Prefill and decode tokens/s, and %% of the memory-bandwidth roofline.",
        description = {"Measure generation speed: batch 1, a one-token prompt, 512 greedy decoded tokens (stop tokens ignored), "
                + "the protocol of jmlc's benchmarks. Untimed warm-up runs first (the JIT compiles the CPU's loops, a GPU loads "
                + "its kernels), then 3 timed runs. Prints prefill and decode tokens/s, the mean and standard deviation of the timed "
                + "runs, and decode as a %% of the roofline: memory bandwidth / bytes a decode step reads (weights as stored, but "
                + "the embedding table, plus the KV cache)."})
final class BenchCommand implements Callable<Integer> {
    private final CliContext ctx;
    @Spec CommandSpec spec;
    @Mixin ModelOptions model;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "Prompt text, encoded with BOS (default: a one-token prompt).")
    String prompt;

    @Option(names = "--gen", paramLabel = "N", defaultValue = "512", description = "Tokens to decode (default: ${DEFAULT-VALUE}).")
    int gen;

    @Option(names = "--runs", paramLabel = "R", defaultValue = "3", description = "Timed runs, reported as mean and standard deviation (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--warmup", paramLabel = "W",
            description = "Untimed warm-up runs before them, each the same as a timed run (default: one, then more until 3 s have passed: "
                    + "the JIT goes on compiling for the first seconds).")
    Integer warmup;

    @Option(names = "--bandwidth", paramLabel = "GB/s",
            description = "Memory bandwidth for the roofline (default: the device's figure; the CPU's is measured with a 1 GiB streaming read).")
    Double bandwidth;

    @Option(names = "--json", description = "Print the results as one JSON object.")
    boolean json;

    BenchCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() throws Exception {
        var opts = model.loadOptions(spec.commandLine());
        if (gen <= 0) throw new ParameterException(spec.commandLine(), "--gen must be a positive number of tokens, found " + gen);
        if (runs <= 0) throw new ParameterException(spec.commandLine(), "--runs must be positive, found " + runs);
        if (warmup != null && warmup < 0) throw new ParameterException(spec.commandLine(), "--warmup must be 0 or more runs, found " + warmup);
        WarmUp warmUp = new WarmUp(warmup);
        if (bandwidth != null && !(bandwidth > 0)) throw new ParameterException(spec.commandLine(), "--bandwidth must be a positive number of GB/s, found " + bandwidth);
        try (ChatModule cm = ModelOptions.load(ctx, model.model, opts)) {
            int[] ids = Benchmark.prompt(cm.model().tokenizer(), prompt);
            int window = cm.model().runner().maxContext();
            if (ids.length + gen > window)
                throw new ParameterException(spec.commandLine(), "a " + ids.length + "-token prompt and --gen " + gen + " need " + (ids.length + gen)
                        + " positions, but the context holds " + window + " (raise --max-context or lower --gen)");
            ctx.note(String.format("benchmark: %d-token prompt, %d decoded tokens, greedy, batch 1, %s and %d timed run%s",
                    ids.length, gen, warmUp.describe(), runs, runs == 1 ? "" : "s"));
            Benchmark.Runs done = Benchmark.run(ctx, cm, ids, gen, warmUp, runs);
            Optional<Bandwidth> bw = bandwidth(ctx, cm.model().runner().device(), bandwidth);
            var result = new Benchmark.Result(ids.length, gen, done.warmups(), done.timed(), Roofline.of(cm.model().compiled(), cm.model().runner().weightBytes()), bw);
            if (json) ctx.out.println(ctx.json.writeValueAsString(Benchmark.json(result, cm)));
            else Benchmark.summary(result).forEach(ctx.out::println);
        }
        ctx.out.flush();
        return 0;
    }

    /** The bandwidth for the roofline, with a note while the CPU's is measured. */
    static Optional<Bandwidth> bandwidth(CliContext ctx, DeviceInfo device, Double given) {
        if (!Bandwidth.willMeasure(device, given)) return Bandwidth.of(device, given);
        ProgressBar bar = new ProgressBar(ctx);
        bar.update("measuring memory bandwidth", 0, 1);
        Optional<Bandwidth> bw = Bandwidth.of(device, given);
        bar.finish(bw.map(b -> "bandwidth " + b.describe()).orElse("bandwidth unknown"));
        return bw;
    }
}
