package jmlc.engine.runtime.gpu;

/** A GPU runtime call failed: the message names the call, the status by name, and what it was for. */
public class GpuException extends RuntimeException {
    public GpuException(String message) {
        super(message);
    }
}
