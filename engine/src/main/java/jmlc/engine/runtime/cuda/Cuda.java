package jmlc.engine.runtime.cuda;

import jmlc.engine.runtime.gpu.GpuException;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.cuGetErrorName;
import static org.bytedeco.cuda.global.cudart.cuGetErrorString;

/** Status checks for driver API calls: failures become exceptions naming the call, the status and its meaning. */
final class Cuda {
    private Cuda() {}

    static void check(int status, String call) {
        if (status != CUDA_SUCCESS) throw new GpuException(call + " failed: " + describe(status));
    }

    static String describe(int status) {
        try (BytePointer name = new BytePointer((Pointer) null); BytePointer text = new BytePointer((Pointer) null)) {
            String n = cuGetErrorName(status, name) == CUDA_SUCCESS && !name.isNull() ? name.getString() : "CUDA error";
            String t = cuGetErrorString(status, text) == CUDA_SUCCESS && !text.isNull() ? text.getString() : "";
            return n + " (" + status + ")" + (t.isEmpty() ? "" : ": " + t);
        }
    }

    /** A native view of host memory at {@code address}, for copies (no allocation, no ownership). */
    static Pointer host(long address, long bytes) {
        return new Address(address, bytes);
    }

    private static final class Address extends Pointer {
        Address(long address, long bytes) {
            super((Pointer) null);
            this.address = address;
            this.limit = bytes;
            this.capacity = bytes;
        }
    }
}
