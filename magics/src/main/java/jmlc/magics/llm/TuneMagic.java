package jmlc.magics.llm;

import jmlc.compiler.tune.Measurement;
import jmlc.compiler.tune.TaskResult;
import jmlc.compiler.tune.Tuner;
import jmlc.compiler.tune.TuningRecord;
import jmlc.compiler.tune.TuningTask;
import jmlc.engine.api.ChatModule;
import jmlc.engine.api.ModelTuning;
import jmlc.engine.model.Progress;
import jmlc.engine.tuning.TuningDatabase;
import jmlc.magics.core.DisplayHandle;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicArgs;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MimeBundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;

/**
 * {@code %tune [--budget 1m] [--kernels REGEX]}: searches the loaded model's kernel knobs on its
 * device (as {@code jmlc tune} does), with a live progress bar and a box chart of the candidates
 * per kernel redrawn as each finishes; where the device launches programmatic dependents, the decode-step
 * stage ({@code DecodeStepTuning}) follows and its trials are shown; writes the device's tuning database
 * and loads the model again, so the tuned kernels are used at once. {@code %tune --show}: the database.
 */
public final class TuneMagic implements Magic {

    @Command(name = "tune", description = {
            "Tunes the loaded model's kernels on its device: for each kernel signature, tries the knob values its rule declares "
                    + "(all of a small space, a seeded evolutionary search of a large one) within the budget, each checked against the "
                    + "reference interpreter before it is timed. The best go to the device's tuning database (~/.cache/jmlc/tuning) "
                    + "and the model is loaded again with them.",
            "Shows a progress bar, a chart of the candidates' times per kernel, and the table of results."})
    static final class Args {
        @Option(names = "--budget", paramLabel = "TIME", defaultValue = "1m", description = "wall time for the search: 90s, 5m, 1h (default: ${DEFAULT-VALUE})")
        String budget;

        @Option(names = "--kernels", paramLabel = "REGEX", description = "tune only the kernel signatures this regular expression finds")
        String kernels;

        @Option(names = "--prefill-tokens", paramLabel = "N", defaultValue = "512", description = "prompt length prefill kernels are timed at (default: ${DEFAULT-VALUE})")
        int prefillTokens;

        @Option(names = "--position", paramLabel = "N", defaultValue = "256", description = "context length decode kernels are timed at (default: ${DEFAULT-VALUE})")
        int position;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "seeds the search and the random weights (default: ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--step-tokens", paramLabel = "N", defaultValue = "256",
                description = "decode tokens a run of the decode-step stage generates, 0 skips it (default: ${DEFAULT-VALUE}): where the device launches "
                        + "programmatic dependents (CUDA sm_90+), the whole model's decode timed as tuned, as dependents, and with the GEMVs' ring and "
                        + "early trigger; the fastest kept if 1%% ahead (it loads copies of the model beside the one loaded)")
        int stepTokens;

        @Option(names = "--no-reload", description = "keep the loaded model as it is (the database is still written)")
        boolean noReload;

        @Option(names = "--show", description = "tune nothing: show the loaded device's tuning database (all of them without a model)")
        boolean show;
    }

    @Override
    public String name() {
        return "tune";
    }

    @Override
    public String summary() {
        return "Search each kernel's knobs on the device, keep the best, reload: %tune [--budget 1m] [--kernels REGEX]; %tune --show";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Object run(MagicContext ctx) throws Exception {
        Args args = ctx.parse(new Args());
        if (args.show) return show(ctx);
        ChatModule cm = Llm.model(ctx.session());
        ModelTuning.Options opts;
        try {
            opts = new ModelTuning.Options(ModelTuning.parseBudget(args.budget), args.kernels, args.prefillTokens, args.position, args.seed, args.stepTokens);
        } catch (IllegalArgumentException e) {
            throw new MagicException("%tune: " + e.getMessage());
        }
        Duration budget = opts.budget();
        String device = cm.model().runner().device().id();
        List<TaskResult> done = new ArrayList<>();
        String title = "Tuning " + cm.model().spec() + " on " + device;
        DisplayHandle chart = ctx.display(TuningChart.bundle(done, title));
        var cancelled = new java.util.concurrent.atomic.AtomicBoolean();
        long t0 = System.nanoTime();
        ModelTuning.Result result;
        try (jmlc.magics.core.Progress progress = ctx.progress(title + " within " + budget.toSeconds() + " s", budget.toSeconds())) {
            Tuner.Listener listener = new Tuner.Listener() {
                @Override
                public void measured(TuningTask task, Measurement m, Measurement.Timed best) {
                    if (cancelled.get()) throw new CancellationException("tuning was interrupted");
                    long s = Math.min(budget.toSeconds(), (System.nanoTime() - t0) / 1_000_000_000L);
                    progress.update(s, task.signature().key() + (best == null ? "" : String.format(": best %.4f ms", best.ms())));
                }

                @Override
                public void taskFinished(TaskResult r, int n, int of) {
                    done.add(r);
                    chart.update(TuningChart.bundle(done, title + " (" + n + "/" + of + " kernels)"));
                }
            };
            Progress warnings = new Progress() {
                public void update(String stage, long d, long total) {
                    if (cancelled.get()) throw new CancellationException("tuning was interrupted");
                }

                public void warn(String message) {
                    ctx.printErr("%tune: warning: " + message);
                }
            };
            try {
                result = Background.run("jmlc-tune", () -> ModelTuning.tune(cm.model(), cm.options(), opts, listener, warnings), () -> cancelled.set(true));
            } catch (InterruptedException e) {
                progress.done("interrupted: nothing was written");
                throw e;
            } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
                progress.done("failed");
                throw new MagicException("%tune: " + e.getMessage(), e);
            }
            progress.done(String.format("%d kernels in %.0f s", result.report().results().size(), result.report().seconds()));
        }
        ctx.display(TableView.of(TuningChart.table("Tuned on " + result.identity() + (result.database() == null ? " (nothing timed)" : ": " + result.database()),
                result.report().results())));
        if (!result.stageLines().isEmpty()) ctx.display(MimeBundle.text(String.join("\n", result.stageLines())));
        if (!args.noReload && result.database() != null) {
            var last = ctx.session().get(Llm.LAST_LOAD);
            String spec = last.map(Llm.LoadRequest::spec).orElse(cm.model().spec());
            var options = last.map(Llm.LoadRequest::options).orElse(cm.options());
            ctx.display(Loading.load(ctx, spec, options));
        }
        return TuningChart.bundle(result.report().results(), title + " (done)");
    }

    /** The loaded device's database, or every database when no model is loaded. */
    private static Object show(MagicContext ctx) {
        Path dir = TuningDatabase.directory();
        List<Path> files = TuningDatabase.files(dir);
        var loaded = ctx.session().get(Llm.MODEL);
        if (loaded.isPresent()) {
            String name = loaded.get().model().runner().device().name();
            files = files.stream().filter(f -> {
                var id = TuningDatabase.identity(f);
                return id != null && id.name().equals(name);
            }).toList();
        }
        if (files.isEmpty()) return MimeBundle.text("no tuning database in " + dir + (loaded.isPresent() ? " for " + loaded.get().model().runner().device().id() : "")
                + ": %tune writes one");
        for (Path f : files) {
            TuningDatabase.Loaded db = TuningDatabase.read(f, null);
            db.warnings().forEach(w -> ctx.printErr("%tune: warning: " + w));
            var kernel = StringColumn.create("kernel");
            var def = DoubleColumn.create("default ms");
            var best = DoubleColumn.create("best ms");
            var gain = DoubleColumn.create("gain");
            var measured = StringColumn.create("measured");
            var knobs = StringColumn.create("knobs");
            for (TuningRecord r : db.records()) {
                kernel.append(r.signature());
                def.append(r.defaultMs());
                best.append(r.bestMs());
                gain.append(r.gain());
                measured.append(r.measured().isEmpty() ? "(set by hand)" : r.measured());
                knobs.append(new java.util.TreeMap<>(r.knobs()).toString().replaceAll("[{}]", "").replace(", ", " "));
            }
            var id = TuningDatabase.identity(f);
            ctx.display(TableView.of(Table.create(f + ": " + (id == null ? "unreadable" : id), kernel, def, best, gain, measured, knobs)));
        }
        return null;
    }
}
