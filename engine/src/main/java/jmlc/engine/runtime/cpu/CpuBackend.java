package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Node;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.KnobSpace;
import jmlc.compiler.target.Target;
import jmlc.compiler.tune.Region;
import jmlc.compiler.tune.Tasks;
import jmlc.compiler.tune.TuningTask;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.Progress;
import jmlc.engine.runtime.Backend;
import jmlc.engine.runtime.DeviceIdentity;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.ModelRunner;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.TuningSetup;
import jmlc.engine.tuning.TuningDatabase;

import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The CPU: {@code cpu} runs the compiled graph with Vector API kernels on all cores, with the knob
 * values of the CPU's tuning database; {@code cpu:ref} runs it on the reference interpreter (slow,
 * obviously correct).
 */
public final class CpuBackend implements Backend {

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public List<DeviceInfo> detect() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        p.put("max heap", Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB");
        p.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        // the Vector API only where this JVM has it: without it cpu:ref still runs, and cpu says why not (checkUsable)
        p.put("driver", "Java " + Runtime.version().feature() + (vectorApi() ? ", " + Simd.F.vectorBitSize() + "-bit vectors" : ", no Vector API"));
        String name = cpuName();
        return List.of(new DeviceInfo("cpu", "cpu", name, p),
                new DeviceInfo("cpu:ref", "cpu", name + " (reference interpreter)", Map.of("note", "op-by-op plain Java, for checking")));
    }

    private static String cpuName() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo")))
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    /** Whether this JVM was started with the Vector API (--add-modules jdk.incubator.vector). */
    static boolean vectorApi() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** {@code cpu} runs Vector API kernels: without the incubator module they would fail at the first step (NoClassDefFoundError). */
    @Override
    public void checkUsable(DeviceInfo device) {
        if (device.id().equals("cpu") && !vectorApi())
            throw new IllegalStateException("the cpu device runs Vector API kernels, and this JVM was started without them: add the JVM options "
                    + "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED (the ./jmlc launcher and the Jupyter kernel do), "
                    + "or use --device cpu:ref, the slow reference interpreter");
    }

    /** The tuning target of this machine's CPU (on the shared pool's threads). */
    static Target target() {
        return CpuKnobs.target(ThreadPool.shared().threads());
    }

    @Override
    public ModelRunner load(CompiledModel model, ModelWeights weights, DeviceInfo device, RuntimeSettings settings, Progress progress) {
        checkUsable(device);
        if (device.id().equals("cpu:ref")) return new ReferenceRunner(model, weights, device);
        Target t = target();
        TuningDatabase.Loaded db = TuningDatabase.forDevice(DeviceIdentity.of(device, t.toString()));
        db.warnings().forEach(progress::warn);
        Map<Node, CpuKnobs.Matmul> knobs = new IdentityHashMap<>();
        for (Node n : model.graph().nodes())
            if (CpuKnobs.isMatmul(n)) knobs.put(n, CpuKnobs.matmul(n, t, db.knobs(), w -> progress.warn("the tuning database " + db.file() + ": " + w)));
        return new CpuRunner(model, weights, device, knobs);
    }

    /**
     * Tuning on the CPU: per matmul weight shape, the decode GEMV's knobs ({@code cpu_gemv}, one
     * token) and, where the matmul takes a whole prompt, the prefill matmul's ({@code cpu_gemm}),
     * each measured on the matmul cut out of the model by a {@link CpuMeasurer}.
     */
    @Override
    public Optional<TuningSetup> tuning(CompiledModel model, DeviceInfo device, TuningSetup.Options options, Progress progress) {
        if (device.id().equals("cpu:ref")) return Optional.empty();
        Target t = target();
        DeviceIdentity id = DeviceIdentity.of(device, t.toString());
        TuningDatabase.Loaded db = TuningDatabase.forDevice(id);
        db.warnings().forEach(progress::warn);
        Map<KernelSignature, TuningTask> tasks = new LinkedHashMap<>();
        for (boolean decode : new boolean[] {true, false}) {
            Map<KernelSignature, Integer> uses = new LinkedHashMap<>();
            Map<KernelSignature, Node> first = new LinkedHashMap<>();
            Map<KernelSignature, KnobSpace> spaces = new LinkedHashMap<>();
            for (Node n : model.graph().nodes()) {
                if (!CpuKnobs.isMatmul(n)) continue;
                boolean oneRow = MatmulParts.of(n).x().type().shape().dim(0).isFixed();
                if (!decode && oneRow) continue; // the LM head after last_row: a GEMV in prefill too
                KnobSpace s = decode ? CpuKnobs.gemv(MatmulParts.of(n).w(), t) : CpuKnobs.gemm(MatmulParts.of(n).w(), t);
                uses.merge(s.signature(), 1, Integer::sum);
                first.putIfAbsent(s.signature(), n);
                spaces.putIfAbsent(s.signature(), s);
            }
            int seq = decode ? 1 : Math.min(options.prefillTokens(), model.maxStepTokens());
            int pos = decode ? Math.clamp(options.decodePosition(), 0, model.maxContext() - 1) : 0;
            int[] check = decode ? new int[] {1} : java.util.stream.IntStream.of(Math.min(Tasks.CHECK_SHORT, seq), Math.min(Tasks.CHECK_LONG, seq)).distinct().toArray();
            for (var e : spaces.entrySet()) {
                KernelSignature sig = e.getKey();
                if (!options.include().test(sig.toString())) continue;
                tasks.put(sig, new TuningTask(sig, e.getValue(), "cpu_matmul", Region.extract(model.graph(), List.of(first.get(sig)), sig.key()), decode, seq, pos,
                        uses.get(sig), Tasks.valuesOf(e.getValue(), db.knobs()), check));
            }
        }
        return Optional.of(new TuningSetup(id, List.copyOf(tasks.values()), new CpuMeasurer(device.id() + " (" + device.name() + ")", 1), () -> { }));
    }
}
