package jmlc.engine.runtime.cuda;

import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.Progress;
import jmlc.engine.runtime.Backend;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.ModelRunner;
import jmlc.engine.runtime.gpu.GpuRunner;
import jmlc.engine.runtime.gpu.TuningDatabase;

import java.util.List;

/** NVIDIA GPUs through the CUDA driver API and NVRTC: devices {@code cuda:0}, {@code cuda:1} ... */
public final class CudaBackend implements Backend {
    private List<DeviceInfo> found;
    private String whyNone;

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public synchronized List<DeviceInfo> detect() {
        if (found == null) found = CudaDevice.detect(why -> whyNone = why);
        return found;
    }

    @Override
    public synchronized java.util.Optional<String> whyNone() {
        detect();
        return found.isEmpty() ? java.util.Optional.ofNullable(whyNone) : java.util.Optional.empty();
    }

    @Override
    public ModelRunner load(CompiledModel model, ModelWeights weights, DeviceInfo device, Progress progress) {
        int ordinal = Integer.parseInt(device.id().substring("cuda:".length()));
        CudaDevice dev = CudaDevice.open(ordinal);
        try {
            return new GpuRunner(dev, model, weights, TuningDatabase.load(), progress);
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }
}
