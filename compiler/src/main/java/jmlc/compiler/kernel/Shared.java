package jmlc.compiler.kernel;

/** A shared-memory (workgroup) array of a kernel: {@code size} elements per block. */
public record Shared(String name, KType element, int size) {

    public int bytes() {
        return size * element.bytes();
    }
}
