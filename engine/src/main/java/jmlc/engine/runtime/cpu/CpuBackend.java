package jmlc.engine.runtime.cpu;

import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.Progress;
import jmlc.engine.runtime.Backend;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.ModelRunner;
import jmlc.engine.runtime.RuntimeSettings;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CPU: {@code cpu} runs the compiled graph with Vector API kernels on all cores;
 * {@code cpu:ref} runs it on the reference interpreter (slow, obviously correct).
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

    /** {@code cpu} runs Vector API kernels: without the incubator module they would fail at the first step (NoClassDefFoundError). */
    @Override
    public void checkUsable(DeviceInfo device) {
        if (device.id().equals("cpu") && ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty())
            throw new IllegalStateException("the cpu device runs Vector API kernels, and this JVM was started without them: add the JVM options "
                    + "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED (the ./jmlc launcher and the Jupyter kernel do), "
                    + "or use --device cpu:ref, the slow reference interpreter");
    }

    @Override
    public ModelRunner load(CompiledModel model, ModelWeights weights, DeviceInfo device, RuntimeSettings settings, Progress progress) {
        checkUsable(device);
        return device.id().equals("cpu:ref") ? new ReferenceRunner(model, weights, device) : new CpuRunner(model, weights, device);
    }
}
