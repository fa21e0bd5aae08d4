package jmlc.engine.runtime.cuda;

import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.gpu.GpuDevice;
import jmlc.engine.runtime.gpu.GpuPlatform;

import java.util.List;

/** NVIDIA GPUs through the CUDA driver API and NVRTC (bytedeco cuda): devices {@code cuda:0}, {@code cuda:1} ... */
public final class CudaPlatform implements GpuPlatform {
    private CudaDevice.Detection detection;

    @Override
    public String name() {
        return "cuda";
    }

    private synchronized CudaDevice.Detection detection() {
        if (detection == null) detection = CudaDevice.detect();
        return detection;
    }

    @Override
    public List<DeviceInfo> detect() {
        return detection().devices();
    }

    @Override
    public String unavailable() {
        return detection().unavailable();
    }

    @Override
    public GpuDevice open(DeviceInfo device, RuntimeSettings settings) {
        return CudaDevice.open(Integer.parseInt(device.id().substring("cuda:".length())));
    }
}
