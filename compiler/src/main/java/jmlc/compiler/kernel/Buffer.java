package jmlc.compiler.kernel;

/** A global-memory buffer parameter of a kernel: elements of {@code element}, read-only or written. */
public record Buffer(String name, KType element, boolean readOnly) {}
