package jmlc.compiler.schedule;

/** A knob value from the tuning database (or a caller) that the rule cannot use: names the kernel, knob, value and what is allowed. */
public final class InvalidKnobException extends IllegalArgumentException {
    private final KernelSignature signature;

    public InvalidKnobException(KernelSignature signature, String message) {
        super(message);
        this.signature = signature;
    }

    /** The kernel whose knob values were refused. */
    public KernelSignature signature() {
        return signature;
    }
}
