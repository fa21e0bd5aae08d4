package jmlc.engine.api;

import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.tune.Tuner;
import jmlc.compiler.tune.TuningRecord;
import jmlc.compiler.tune.TuningTask;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.Checkpoints;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.Progress;
import jmlc.engine.model.SyntheticModels;
import jmlc.engine.runtime.DeviceIdentity;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.TuningSetup;
import jmlc.engine.tuning.TuningDatabase;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Tunes a model's kernels on a device and keeps the best knobs in the device's tuning database:
 * what {@code jmlc tune} and {@code %tune} run. The device's backend supplies the tasks and the
 * measurer ({@link jmlc.engine.runtime.Backend#tuning}); the {@link Tuner} searches; the
 * database ({@link TuningDatabase}) gets an entry per kernel signature whose defaults were timed.
 * A model loaded afterwards on that device compiles with the tuned knobs.
 */
public final class ModelTuning {
    private ModelTuning() {}

    /**
     * @param budget         wall time for the search (measuring the defaults included)
     * @param kernels        a regular expression: only signatures it finds are tuned (null: all)
     * @param prefillTokens  the prompt length prefill kernels are timed at
     * @param decodePosition the context decode kernels are timed at
     * @param seed           seeds the search and the random weights
     * @param stepTokens     decode tokens a run of the decode-step stage ({@link DecodeStepTuning}) generates; 0 skips it
     */
    public record Options(Duration budget, String kernels, int prefillTokens, int decodePosition, long seed, int stepTokens) {
        public static final int DEFAULT_STEP_TOKENS = 256;

        public Options {
            if (stepTokens < 0) throw new IllegalArgumentException("decode-step tokens must be >= 0 (0 skips the stage), found " + stepTokens);
            if (budget == null || budget.isZero() || budget.isNegative()) throw new IllegalArgumentException("the tuning budget must be positive, found " + budget);
            if (prefillTokens < 1) throw new IllegalArgumentException("prefill tokens must be positive, found " + prefillTokens);
            if (decodePosition < 0) throw new IllegalArgumentException("the decode position must be >= 0, found " + decodePosition);
            if (kernels != null) {
                try {
                    Pattern.compile(kernels);
                } catch (PatternSyntaxException e) {
                    throw new IllegalArgumentException("--kernels '" + kernels + "' is not a regular expression: " + e.getDescription());
                }
            }
        }

        public static Options of(Duration budget) {
            return new Options(budget, null, 512, 256, 1, DEFAULT_STEP_TOKENS);
        }

        public Options kernels(String regex) {
            return new Options(budget, regex, prefillTokens, decodePosition, seed, stepTokens);
        }
    }

    /** A budget as people write it: {@code 90s}, {@code 5m}, {@code 1h30m}, or a number of seconds. */
    public static Duration parseBudget(String s) {
        String t = s.strip().toLowerCase(java.util.Locale.ROOT);
        java.util.regex.Matcher m = Pattern.compile("(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s?)?").matcher(t);
        if (t.isEmpty() || !m.matches())
            throw new IllegalArgumentException("expected a time such as 90s, 5m or 1h30m, found '" + s + "'");
        long seconds = 0;
        if (m.group(1) != null) seconds += 3600 * Long.parseLong(m.group(1));
        if (m.group(2) != null) seconds += 60 * Long.parseLong(m.group(2));
        if (m.group(3) != null) seconds += Long.parseLong(m.group(3));
        if (seconds <= 0) throw new IllegalArgumentException("the budget must be more than 0 seconds, found '" + s + "'");
        return Duration.ofSeconds(seconds);
    }

    /**
     * What a run did: the device, every task's result, the database written (null when nothing was timed), and
     * the decode-step stage's trials (null where it did not run: no tuned kernel with an early trigger, nothing
     * timed, or {@code stepTokens} 0), and the short-context threshold's ({@link ShortContextTuning}; null where it did
     * not run: not a GPU, no short-context program, nothing timed, or {@code stepTokens} 0).
     */
    public record Result(DeviceInfo device, DeviceIdentity identity, Tuner.Report report, Path database, DecodeStepTuning.Choice step,
                         ShortContextTuning.Choice shortContext) {
        /** What the whole-step stages chose, in lines for a person (none where neither ran). */
        public List<String> stageLines() {
            List<String> l = new java.util.ArrayList<>();
            if (step != null) l.addAll(step.lines());
            if (shortContext != null) l.addAll(shortContext.lines());
            return l;
        }
    }

    /** Tunes {@code spec} (a model directory, a .gguf, synthetic:NAME) as {@code load} would load it. */
    public static Result tune(String spec, LoadOptions load, Options options, Tuner.Listener listener, Progress progress) {
        Backends.Resolved dev = Backends.resolve(load.device());
        ModelConfig config;
        QuantMode quant = load.quant();
        if (SyntheticModels.isSynthetic(spec)) {
            config = SyntheticModels.require(spec);
        } else {
            Path p = Path.of(spec);
            if (!Files.exists(p)) throw new IllegalArgumentException("model '" + spec + "' not found: expected a model directory, a .gguf file, or synthetic:NAME");
            try (Checkpoint c = Checkpoints.open(p)) {
                config = c.config();
                if (quant == null) quant = ModelLoader.naturalQuant(c);
            }
        }
        if (quant == null) quant = QuantMode.Q4F16_1;
        int ctx = load.maxContext() > 0 ? load.maxContext() : Math.min(config.maxPositions(), ModelLoader.DEFAULT_MAX_CONTEXT);
        if (ctx > config.maxPositions()) throw new IllegalArgumentException("max context " + ctx + " exceeds the model's context window of " + config.maxPositions());
        progress.update("compiling graph (" + quant + ")", 0, 1);
        CompiledModel compiled = CompiledModel.compile(config, quant, load.kvCacheFor(quant), ctx, false, load.disabledPasses(), ModelLoader.MAX_STEP_TOKENS);
        return withDecodeStep(tune(compiled, dev, options, listener, progress), compiled, dev, spec, load, options, progress);
    }

    /** The per-kernel search's result, with what the decode-step stage takes from it. */
    private record PerKernel(DeviceIdentity identity, Tuner.Report report, Path database, List<TuningTask> tasks, List<TuningRecord> records) {}

    /**
     * Tunes the kernels of a loaded model on its device (the model keeps running what it compiled; load it again to
     * use the result), then the decode-step stage, which loads {@code load}'s copies of the model beside it.
     */
    public static Result tune(LoadedModel model, LoadOptions load, Options options, Tuner.Listener listener, Progress progress) {
        Backends.Resolved dev = Backends.resolve(model.runner().device().id());
        return withDecodeStep(tune(model.compiled(), dev, options, listener, progress), model.compiled(), dev, model.spec(), load.device(dev.device().id()), options, progress);
    }

    /**
     * {@code k} with the whole-step stages run after it where something was timed and the options ask: the decode step's
     * early triggers ({@link DecodeStepTuning}), then on a GPU the short-context threshold ({@link ShortContextTuning}).
     */
    private static Result withDecodeStep(PerKernel k, CompiledModel compiled, Backends.Resolved dev, String spec, LoadOptions load, Options options, Progress progress) {
        DecodeStepTuning.Choice step = null;
        ShortContextTuning.Choice shortContext = null;
        if (k.database() != null && options.stepTokens() > 0) {
            step = DecodeStepTuning.run(spec, load, TuningDatabase.directory(), k.identity(), k.tasks(), k.records(), options.stepTokens(),
                    what -> progress.update(what, 0, 1)).orElse(null);
            if (dev.backend() instanceof jmlc.engine.runtime.gpu.GpuBackend gpu)
                shortContext = ShortContextTuning.run(compiled, gpu, dev.device(), TuningDatabase.directory(), k.identity(),
                        k.records().getFirst().measured(), // a database was written: there are records
                        what -> progress.update(what, 0, 1)).orElse(null);
        }
        return new Result(dev.device(), k.identity(), k.report(), k.database(), step, shortContext);
    }

    private static PerKernel tune(CompiledModel model, Backends.Resolved dev, Options options, Tuner.Listener listener, Progress progress) {
        var include = options.kernels() == null ? (java.util.function.Predicate<String>) s -> true : Pattern.compile(options.kernels()).asPredicate();
        var setupOptions = new TuningSetup.Options(options.prefillTokens(), options.decodePosition(), include);
        try (TuningSetup setup = dev.backend().tuning(model, dev.device(), setupOptions, progress)
                .orElseThrow(() -> new IllegalArgumentException(dev.device().id() + " has no kernels to tune (" + dev.device().name() + ")"))) {
            if (setup.tasks().isEmpty())
                throw new IllegalArgumentException("no kernel signature " + (options.kernels() == null ? "" : "matches --kernels '" + options.kernels() + "' ")
                        + "among the model's on " + dev.device().id());
            Tuner.Report report = new Tuner(setup.measurer(), new Tuner.Settings(options.budget(), options.seed(), 64, 16, 0.01), listener).tune(setup.tasks());
            var records = report.records(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
            Path db = null;
            if (!records.isEmpty()) {
                try {
                    db = TuningDatabase.save(TuningDatabase.directory(), setup.device(), records);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write the tuning database in " + TuningDatabase.directory(), e);
                }
            }
            return new PerKernel(setup.device(), report, db, setup.tasks(), records);
        }
    }
}
