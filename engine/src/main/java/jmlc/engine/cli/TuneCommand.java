package jmlc.engine.cli;

import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.tune.Measurement;
import jmlc.compiler.tune.TaskResult;
import jmlc.compiler.tune.Tuner;
import jmlc.compiler.tune.TuningTask;
import jmlc.engine.api.Backends;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.api.ModelTuning;
import jmlc.engine.tuning.TuningDatabase;
import jmlc.engine.tuning.TuningTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code jmlc tune MODEL [--device D] [--budget 5m] [--kernels REGEX] [--quant Q]}: searches every
 * kernel's knobs on the device and keeps the best per device in its tuning database, which every
 * later compile for that device reads; {@code jmlc tune --show} prints the databases.
 */
@Command(name = "tune", mixinStandardHelpOptions = true, sortOptions = false, header = "Search each kernel's knobs on a device; keep the best in its tuning database.",
        description = {"Tune the model's kernels on the device: for each kernel signature (a rule's kernel for one shape), try the knob values "
                + "its rule declares (all of a small space; a seeded evolutionary search of a large one) within the budget. Every candidate "
                + "is checked against the reference interpreter before it is timed (device events, warm-up, median of repeats, weights "
                + "rotated beyond the cache). A candidate replaces the defaults only if it is at least 1%% faster when both are timed again.",
                "Progress goes to stderr; the table (kernel, default time, best time, gain, knobs) to stdout. The best knobs go to the "
                        + "device's database in ~/.cache/jmlc/tuning (or $JMLC_TUNING): the running model, 'jmlc compile', %%kernels and "
                        + "%%source use them from then on.",
                "  jmlc tune synthetic:llama-2-7b --budget 3m",
                "  jmlc tune MODEL --device cpu --kernels gemv",
                "  jmlc tune --show"})
final class TuneCommand implements Callable<Integer> {
    private final CliContext ctx;
    @Spec CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL", description = "A model directory, a .gguf file, or synthetic:NAME (synthetic:llama-2-7b ...).")
    String model;

    @Option(names = "--device", paramLabel = "D", defaultValue = "auto", description = "auto, cpu, cuda:0, sim:cuda:sm_90 ... (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--budget", paramLabel = "TIME", defaultValue = "5m", converter = Converters.Budget.class,
            description = "Wall time for the search: 90s, 5m, 1h (default: ${DEFAULT-VALUE}).")
    Duration budget;

    @Option(names = "--kernels", paramLabel = "REGEX", description = "Tune only the kernel signatures this regular expression finds (e.g. gemm, 'gemvh.*4096x4096').")
    String kernels;

    @Option(names = "--quant", paramLabel = "Q", converter = Converters.Quant.class, description = "q4f16_1 (default), q4f32_1, q8f16, q4_0, q0f16, q0f32.")
    QuantMode quant;

    @Option(names = "--max-context", paramLabel = "N", description = "KV cache length (default: the model's window, at most 4096): decode kernels are tuned for it.")
    int maxContext;

    @Option(names = "--kv-cache", paramLabel = "T", converter = Converters.KvCache.class,
            description = "KV cache type the attention kernels are tuned for: f16, f32 or i8 (default: f32 for q4f32_1 and q0f32, else f16).")
    jmlc.compiler.ir.DType kvCache;

    @Option(names = "--prefill-tokens", paramLabel = "N", defaultValue = "512", description = "Prompt length prefill kernels are timed at (default: ${DEFAULT-VALUE}).")
    int prefillTokens;

    @Option(names = "--position", paramLabel = "N", defaultValue = "256",
            description = "Context length decode kernels are timed at (default: ${DEFAULT-VALUE}, the mean of 512 decoded tokens).")
    int position;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Seeds the search and the random weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--step-tokens", paramLabel = "N", defaultValue = "" + ModelTuning.Options.DEFAULT_STEP_TOKENS,
            description = "Decode tokens a run of the decode-step stage generates (default: ${DEFAULT-VALUE}; 0 skips it). Where the device "
                    + "launches programmatic dependents (CUDA sm_90+), the whole model's decode is timed as tuned, as tuned but launched "
                    + "as dependents, and with the GEMVs' ring and early trigger, which a kernel timed alone cannot show; the fastest is kept "
                    + "if 1%% ahead and its logits agree. Then, on a GPU, one decode step of each decode program (the attention in one block a "
                    + "KV head, and split with its combine) is timed at positions 0 to 1023, and the position where one hands over to the "
                    + "other is kept for the model's attention shape.")
    int stepTokens;

    @Option(names = "--show", description = "Tune nothing: print the tuning databases (of --device, if given).")
    boolean show;

    TuneCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        if (show) return show();
        if (model == null) throw new ParameterException(spec.commandLine(), "MODEL is missing (or --show to print the tuning databases)");
        ModelOptions.checkModel(spec.commandLine(), model);
        try {
            Backends.resolve(device);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--device " + device + ": " + e.getMessage());
        }
        if (maxContext < 0) throw new ParameterException(spec.commandLine(), "--max-context must be positive, found " + maxContext);
        ModelTuning.Options opts;
        try {
            opts = new ModelTuning.Options(budget, kernels, prefillTokens, position, seed, stepTokens);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        ProgressBar bar = new ProgressBar(ctx);
        long t0 = System.nanoTime();
        ModelTuning.Result r = ModelTuning.tune(model, LoadOptions.defaults().device(device).quant(quant).maxContext(maxContext).kvCache(kvCache), opts, listener(bar, t0), bar);
        TuningTable.of(r.report()).forEach(ctx.out::println);
        r.stageLines().forEach(ctx.out::println);
        ctx.out.println(String.format(Locale.ROOT, "tuned %d kernel signatures on %s in %.0f s; %s", r.report().results().size(), r.identity(), r.report().seconds(),
                r.database() == null ? "nothing was timed, no database written" : "database: " + r.database()));
        ctx.out.flush();
        return 0;
    }

    /** A bar of the budget's seconds while a kernel is searched, and a line when it is done. */
    private Tuner.Listener listener(ProgressBar bar, long t0) {
        long total = Math.max(1, budget.toSeconds());
        return new Tuner.Listener() {
            @Override
            public void started(List<TuningTask> tasks, Duration b) {
                bar.finish("tuning " + tasks.size() + " kernel signatures on " + device + " within " + b.toSeconds() + " s (the bar: seconds of it)");
            }

            @Override
            public void measured(TuningTask task, Measurement m, Measurement.Timed best) {
                long s = (System.nanoTime() - t0) / 1_000_000_000L;
                bar.update("tuning " + task.signature().key(), Math.min(s, total), total);
            }

            @Override
            public void taskFinished(TaskResult r, int done, int of) {
                bar.finish(String.format(Locale.ROOT, "[%d/%d] %s: %s", done, of, r.task().signature().key(), r.defaults() == null
                        ? (r.all().isEmpty() ? "not measured (budget)" : "the defaults were refused")
                        : String.format(Locale.ROOT, "%d timed%s, default %.4f ms, best %.4f ms (%.3fx) %s", r.timedCount(), r.exhausted() ? " (all)" : "",
                        r.defaults().ms(), r.best().ms(), r.gain(), r.describeBest())));
            }
        };
    }

    private int show() {
        Path dir = TuningDatabase.directory();
        List<Path> files = TuningDatabase.files(dir);
        if (!"auto".equals(device)) {
            var d = Backends.resolve(device).device();
            files = files.stream().filter(f -> {
                var id = TuningDatabase.identity(f);
                return id != null && id.name().equals(d.name());
            }).toList();
        }
        if (files.isEmpty()) {
            ctx.out.println("no tuning database in " + dir + ("auto".equals(device) ? "" : " for " + device) + " (jmlc tune MODEL writes one)");
            ctx.out.flush();
            return 0;
        }
        for (Path f : files) {
            TuningDatabase.Loaded db = TuningDatabase.read(f, null);
            var id = TuningDatabase.identity(f);
            ctx.out.println(f + ": " + (id == null ? "unreadable" : id) + ", " + db.records().size() + " kernel signatures");
            db.warnings().forEach(w -> ctx.err.println("jmlc: warning: " + w));
            TuningTable.of(db).forEach(l -> ctx.out.println("  " + l));
        }
        ctx.out.flush();
        return 0;
    }
}
