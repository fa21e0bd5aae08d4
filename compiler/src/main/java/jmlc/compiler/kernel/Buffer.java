package jmlc.compiler.kernel;

/**
 * A global-memory buffer parameter of a kernel: elements of {@code element}, read-only or written.
 *
 * @param unchanging its contents stay the same while the program runs (weights, their scales, constant tables):
 *                   a kernel may read it before it waits for the kernels before it, and the code generators may
 *                   let the compiler treat it as invariant (CUDA {@code const __restrict__}: loads through the
 *                   non-coherent path, free to move). An activation is read-only in the kernel that reads it but
 *                   changes between kernels, so it is not unchanging.
 */
public record Buffer(String name, KType element, boolean readOnly, boolean unchanging) {

    public Buffer {
        if (unchanging && !readOnly) throw new IllegalArgumentException("buffer " + name + ": an unchanging buffer is read-only");
    }

    /** A buffer whose contents may change between kernels (an activation, a cache, scratch). */
    public Buffer(String name, KType element, boolean readOnly) {
        this(name, element, readOnly, false);
    }
}
