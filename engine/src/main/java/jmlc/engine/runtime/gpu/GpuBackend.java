package jmlc.engine.runtime.gpu;

import jmlc.compiler.build.Build;
import jmlc.compiler.build.PersistentDecode;
import jmlc.compiler.schedule.InvalidKnobException;
import jmlc.compiler.schedule.Knobs;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.Progress;
import jmlc.engine.runtime.Backend;
import jmlc.engine.runtime.DeviceIdentity;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.ModelRunner;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.TuningSetup;
import jmlc.compiler.tune.Tasks;
import jmlc.compiler.tune.TuningTask;
import jmlc.engine.tuning.TunedBuild;
import jmlc.engine.tuning.TuningDatabase;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * GPUs of one platform as a backend: opens the device, compiles the model for the device's target
 * with the tuning database's knobs ({@link Build#compile}, the one compile path), and runs it with
 * a {@link GpuRunner}. The same for CUDA, ROCm and Vulkan: a platform brings only its
 * {@link GpuPlatform} (detection and the device contract).
 */
public final class GpuBackend implements Backend {
    private final GpuPlatform platform;
    private List<DeviceInfo> found;

    public GpuBackend(GpuPlatform platform) {
        this.platform = platform;
    }

    @Override
    public String name() {
        return platform.name();
    }

    public GpuPlatform platform() {
        return platform;
    }

    @Override
    public synchronized List<DeviceInfo> detect() {
        if (found == null) found = platform.detect();
        return found;
    }

    @Override
    public java.util.Optional<DeviceInfo> named(String id) {
        return platform.named(id);
    }

    @Override
    public String unavailable() {
        return detect().isEmpty() ? platform.unavailable() : "";
    }

    /** Loads with the device's tuning database ({@link TuningDatabase#forDevice}): what it cannot use is a warning on {@code progress}. */
    @Override
    public ModelRunner load(CompiledModel model, ModelWeights weights, DeviceInfo device, RuntimeSettings settings, Progress progress) {
        GpuDevice dev = platform.open(device, settings);
        try {
            TuningDatabase.Loaded db = TuningDatabase.forDevice(DeviceIdentity.of(dev.info(), dev.target().toString()));
            db = withSettings(db, settings, dev.target(), progress::warn);
            progress.update("compiling for " + dev.target(), 0, 1);
            Build build = TunedBuild.compile(model.graph(), dev.target(), db, model.maxStepTokens(), progress::warn);
            int shortPrompt;
            RuntimeSettings run;
            try {
                shortPrompt = GpuRunner.shortPrompt(db.knobs(), dev.target(), model.maxStepTokens());
                run = GpuRunner.withDependentKnob(settings, db.knobs(), dev.target(), model.maxStepTokens());
            } catch (InvalidKnobException e) {
                progress.warn("the tuning database " + db.file() + ": " + e.getMessage() + "; the runner uses its defaults");
                shortPrompt = GpuRunner.shortPrompt(Knobs.defaults(), dev.target(), model.maxStepTokens());
                run = settings;
            }
            return new GpuRunner(dev, model, weights, build, shortPrompt, run, progress);
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }

    /**
     * {@code db} with the knobs {@code settings} set laid over it: the persistent decode kernels ({@code JMLC_PERSISTENT});
     * a target without grid barriers says so on {@code warn} and launches kernel by kernel.
     */
    public static TuningDatabase.Loaded withSettings(TuningDatabase.Loaded db, RuntimeSettings settings, jmlc.compiler.target.Target target, java.util.function.Consumer<String> warn) {
        if (settings.persistentKernels() == 0) return db;
        if (settings.persistentKernels() > 1 && !target.caps().gridBarrier())
            warn.accept("persistent decode kernels (JMLC_PERSISTENT=" + settings.persistentKernels() + ") need grid barriers, which " + target
                    + " has not (CUDA's cooperative launch only): its decode launches kernel by kernel");
        return db.with(new jmlc.compiler.schedule.KernelSignature(PersistentDecode.KIND, "", target), Map.of("kernels", settings.persistentKernels()));
    }

    /**
     * Tuning on a GPU of this platform: the model's tasks (one per kernel signature of its decode and
     * prefill programs, cut out as regions of the defaults' build) and a {@link GpuMeasurer} on a
     * device of its own, which the setup closes.
     */
    @Override
    public Optional<TuningSetup> tuning(CompiledModel model, DeviceInfo device, TuningSetup.Options options, Progress progress) {
        GpuDevice dev = platform.open(device, RuntimeSettings.defaults());
        try {
            DeviceIdentity id = DeviceIdentity.of(dev.info(), dev.target().toString());
            TuningDatabase.Loaded db = TuningDatabase.forDevice(id);
            db.warnings().forEach(progress::warn);
            progress.update("compiling for " + dev.target(), 0, 1);
            Build defaults = Build.compile(model.graph(), dev.target(), Knobs.defaults(), model.maxStepTokens());
            List<TuningTask> tasks = Tasks.extract(defaults, db.knobs(), options.prefillTokens(), options.decodePosition(), options.include());
            return Optional.of(new TuningSetup(id, tasks, new GpuMeasurer(dev, GpuMeasurer.Settings.of(dev)), dev));
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }

    /** {@link #load} with knob values from {@code knobs} instead of the tuning database. */
    public GpuRunner load(CompiledModel model, ModelWeights weights, DeviceInfo device, RuntimeSettings settings, Knobs knobs, Progress progress) {
        GpuDevice dev = platform.open(device, settings);
        try {
            progress.update("compiling for " + dev.target(), 0, 1);
            Build build = Build.compile(model.graph(), dev.target(), knobs, model.maxStepTokens());
            return new GpuRunner(dev, model, weights, build, GpuRunner.shortPrompt(knobs, dev.target(), model.maxStepTokens()),
                    GpuRunner.withDependentKnob(settings, knobs, dev.target(), model.maxStepTokens()), progress);
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }
}
