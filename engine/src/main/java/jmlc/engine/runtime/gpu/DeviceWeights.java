package jmlc.engine.runtime.gpu;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;
import jmlc.compiler.quant.Half;
import jmlc.compiler.tensor.HostTensor;
import jmlc.engine.model.ModelWeights;
import jmlc.engine.model.Progress;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A model's weights on the device, in the formats the graph's params expect: uploaded from the
 * checkpoint, or, for synthetic models, made on the device by the fill kernels (random packed
 * words, constant scales, norms of ones), so no host copy of a 7B model is needed.
 */
final class DeviceWeights {
    private final Map<Value, long[]> addresses = new IdentityHashMap<>();

    DeviceWeights(GpuDevice dev, DeviceMemory memory, Graph g, ModelWeights weights, Progress progress) {
        long total = ModelWeights.bytesOf(g), done = 0;
        int salt = 0;
        Map<String, GpuDevice.LoadedKernel> fills = new HashMap<>();
        for (Value p : g.params()) {
            TensorType t = p.type();
            if (weights.synthetic()) {
                addresses.put(p, synthetic(dev, memory, fills, p, t, ++salt));
            } else {
                HostTensor h = weights.get(p);
                if (!h.matches(t)) throw new IllegalStateException("weight " + p.name() + " is stored as " + h + ", the graph expects " + t);
                addresses.put(p, switch (h) {
                    case HostTensor.Dense d -> new long[] {memory.upload(d.data(), d.byteSize(), p.name())};
                    case HostTensor.Quantized q -> new long[] {memory.upload(q.data(), q.scheme().dataBytes(q.rows(), q.cols()), p.name()),
                            memory.upload(q.scales(), q.scheme().scaleBytes(q.rows(), q.cols()), p.name() + " scales")};
                });
            }
            done += ModelWeights.bytesOf(t);
            progress.update((weights.synthetic() ? "making random weights on " : "uploading weights to ") + dev.info().id(), done, total);
        }
    }

    /** The packed values of a quantized param, or all of a dense one. */
    long data(Value param) {
        return of(param)[0];
    }

    /** The group scales of a quantized param. */
    long scales(Value param) {
        long[] a = of(param);
        if (a.length < 2) throw new IllegalStateException(param.name() + " is not quantized: it has no scales");
        return a[1];
    }

    private long[] of(Value param) {
        long[] a = addresses.get(param);
        if (a == null) throw new IllegalStateException("no weight " + param.name() + " on the device");
        return a;
    }

    /** Random weights made on the device with the fill kernels; norms are ones. */
    private static long[] synthetic(GpuDevice dev, DeviceMemory memory, Map<String, GpuDevice.LoadedKernel> fills, Value p, TensorType t, int salt) {
        final float std = 0.02f;
        if (t.dtype().isQuantized()) {
            long r = t.shape().dim(0).size(), c = t.shape().dim(1).size();
            long data = fill(dev, memory, fills, t.quant().dataBytes(r, c), p.name(), SyntheticFill.Kind.RANDOM_BITS, 0, 0, salt);
            float scale = t.quant().bits() == 4 ? std / 4.6f : std / 73.9f;
            int word = t.quant().scaleType() == DType.F16 ? (Half.fromFloat(scale) & 0xffff) * 0x10001 : Float.floatToIntBits(scale);
            long scales = fill(dev, memory, fills, t.quant().scaleBytes(r, c), p.name() + " scales", SyntheticFill.Kind.CONSTANT, 0, word, salt);
            return new long[] {data, scales};
        }
        boolean norm = t.shape().rank() == 1 && p.name().endsWith("norm.weight");
        long bytes = ModelWeights.bytesOf(t);
        float amp = (float) (std * Math.sqrt(3));
        if (t.dtype() == DType.F16)
            return new long[] {norm ? fill(dev, memory, fills, bytes, p.name(), SyntheticFill.Kind.CONSTANT, 0, 0x3C003C00, salt)
                    : fill(dev, memory, fills, bytes, p.name(), SyntheticFill.Kind.RANDOM_F16, amp, 0, salt)};
        if (t.dtype() == DType.F32)
            return new long[] {norm ? fill(dev, memory, fills, bytes, p.name(), SyntheticFill.Kind.CONSTANT, 0, Float.floatToIntBits(1f), salt)
                    : fill(dev, memory, fills, bytes, p.name(), SyntheticFill.Kind.RANDOM_F32, amp, 0, salt)};
        throw new IllegalStateException("no synthetic " + t);
    }

    private static long fill(GpuDevice dev, DeviceMemory memory, Map<String, GpuDevice.LoadedKernel> fills, long bytes, String what,
                             SyntheticFill.Kind kind, float amplitude, int word, int salt) {
        long a = memory.alloc(bytes + 4, what);
        SyntheticFill.fill(dev, fills, a, bytes, kind, amplitude, word, salt);
        return a;
    }
}
