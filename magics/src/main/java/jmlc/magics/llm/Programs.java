package jmlc.magics.llm;

import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.build.Build;
import jmlc.compiler.target.Target;
import jmlc.engine.api.LoadedModel;
import jmlc.engine.runtime.DeviceIdentity;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.gpu.GpuBackend;
import jmlc.engine.runtime.gpu.GpuRunner;
import jmlc.engine.tuning.KnobOverrides;
import jmlc.engine.tuning.TunedBuild;
import jmlc.engine.tuning.TuningDatabase;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Scheduling the loaded model for a GPU target, for {@code %kernels} and {@code %source}. */
final class Programs {

    private Programs() {
    }

    static final String DEFAULT_TARGET = "cuda:sm_90";

    /**
     * The loaded model compiled for a GPU: with {@code --target}, for that target; else the build
     * the model's GPU runner runs; else for the device's target (a GPU) or {@value #DEFAULT_TARGET}
     * (a CPU). Always through {@link Build#compile} with the tuning database, as the runner does,
     * so what the magics show is what runs: the loaded device's database for its own target, else the
     * database of the one device tuned for the target; what it cannot use is a warning on stderr.
     * {@code knobs} ({@code --knob SIG.KNOB=V}) are laid over the database's; with any, the model is
     * compiled again even for its own device's target.
     */
    static Build build(LoadedModel m, String target, List<String> knobs, MagicContext ctx) {
        String magic = ctx.name();
        if (target == null && knobs.isEmpty() && m.runner() instanceof GpuRunner gpu) return gpu.build();
        // the running GPU's own target where none is named: what the device offers (a device without cooperative
        // launch has no grid barriers), not a target parsed again from its properties
        Target t = target == null && m.runner() instanceof GpuRunner gpu ? gpu.target() : target(target, m.runner().device(), magic);
        DeviceIdentity loaded = m.runner() instanceof GpuRunner gpu ? DeviceIdentity.of(gpu.device(), gpu.build().target().toString()) : null;
        TuningDatabase.Loaded db = TuningDatabase.forTarget(TuningDatabase.directory(), t.toString(), loaded);
        // with the environment's overrides, as a model loaded onto such a device takes them (JMLC_PERSISTENT)
        db = GpuBackend.withSettings(db, RuntimeSettings.defaults().withEnvironment(System.getenv()), t, w -> ctx.printErr("%" + magic + ": warning: " + w));
        try {
            return TunedBuild.compile(m.compiled().graph(), t, db, KnobOverrides.parse(knobs), m.compiled().maxStepTokens(), w -> ctx.printErr("%" + magic + ": warning: " + w));
        } catch (IllegalArgumentException e) { // a knob the caller set that a rule refuses: the magic's error, the model stays
            throw new MagicException("%" + magic + ": " + e.getMessage());
        }
    }

    /** The target named with {@code --target}, else the device's if it is a GPU, else {@value #DEFAULT_TARGET}. */
    static Target target(String named, DeviceInfo device, String magic) {
        String spec = named != null ? named : deviceTarget(device).orElse(DEFAULT_TARGET);
        try {
            Target t = Target.parse(spec);
            String units = device.properties().get("multiprocessors");
            if (named == null && units != null && units.matches("\\d+")) {
                int n = Integer.parseInt(units);
                t = t.withMultiprocessors(n);
            }
            return t;
        } catch (IllegalArgumentException e) {
            throw new MagicException("%" + magic + ": " + e.getMessage());
        }
    }

    private static final Pattern SM = Pattern.compile("\\bsm_?(\\d+a?)\\b");
    private static final Pattern CC = Pattern.compile("^(\\d+)\\.(\\d+)$");
    private static final Pattern GFX = Pattern.compile("\\b(gfx[0-9a-f]+)\\b");

    /**
     * A GPU device's target, read from what detection reported: an {@code sm_NN} or {@code gfxNNN}
     * in a property, or a compute capability such as {@code 9.0}. Empty for CPUs and for GPUs whose
     * properties say neither.
     */
    static Optional<String> deviceTarget(DeviceInfo d) {
        String backend = d.backend().toLowerCase();
        boolean cuda = backend.equals("cuda"), amd = backend.equals("rocm");
        if (!cuda && !amd) return Optional.empty();
        for (var e : d.properties().entrySet()) {
            String v = e.getValue().strip();
            if (cuda) {
                Matcher m = SM.matcher(v);
                if (m.find()) return Optional.of("cuda:sm_" + m.group(1));
                Matcher c = CC.matcher(v);
                if (e.getKey().toLowerCase().contains("compute") && c.matches()) return Optional.of("cuda:sm_" + c.group(1) + c.group(2));
            } else {
                Matcher m = GFX.matcher(v);
                if (m.find()) return Optional.of("rocm:" + m.group(1));
            }
        }
        return Optional.of(cuda ? DEFAULT_TARGET : "rocm:gfx90a");
    }

    /**
     * A kernel of a program, with the rule that made it and how many times a step launches it (0 for a
     * kernel a step runs only inside a persistent kernel that fuses it with others, or only as a
     * host of the weight prefetch).
     */
    record Entry(int number, Kernel kernel, String rule, int launches) {}

    static List<Entry> entries(Program program) {
        Map<String, Integer> launches = new LinkedHashMap<>();
        Map<String, String> rules = new LinkedHashMap<>();
        for (Program.Step s : program.steps())
            for (KernelCall c : s.calls()) rules.putIfAbsent(c.kernel().name(), s.rule());
        for (KernelCall c : program.launched()) {
            launches.merge(c.kernel().name(), 1, Integer::sum);
            String rewrite = jmlc.compiler.build.Build.rewriteOf(c.kernel());
            if (rewrite != null) rules.putIfAbsent(c.kernel().name(), rewrite);
        }
        var list = new ArrayList<Entry>();
        int i = 1;
        for (Kernel k : program.kernels()) list.add(new Entry(i++, k, rules.get(k.name()), launches.getOrDefault(k.name(), 0)));
        return list;
    }

    /** The kernel named {@code name}: its exact name, its number in {@code %kernels}, or a unique part of its name. */
    static Entry find(List<Entry> entries, String name, String magic) {
        for (Entry e : entries) if (e.kernel().name().equals(name)) return e;
        String n = name.startsWith("#") ? name.substring(1) : name;
        if (n.matches("\\d+")) {
            int i = Integer.parseInt(n);
            if (i >= 1 && i <= entries.size()) return entries.get(i - 1);
            throw new MagicException("%" + magic + ": no kernel number " + i + ": the program has " + entries.size() + " kernels (%kernels lists them)");
        }
        List<Entry> matches = entries.stream().filter(e -> e.kernel().name().contains(name)).toList();
        if (matches.size() == 1) return matches.getFirst();
        List<String> names = (matches.isEmpty() ? entries : matches).stream().map(e -> e.number() + " " + e.kernel().name()).toList();
        throw new MagicException("%" + magic + ": " + (matches.isEmpty() ? "no kernel named '" + name + "'; kernels: "
                : "'" + name + "' names " + matches.size() + " kernels: ") + String.join(", ", names));
    }
}
