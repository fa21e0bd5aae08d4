package jmlc.compiler.codegen;

import jmlc.compiler.kernel.Kernel;

/**
 * Prints kernel IR in a GPU language: one self-contained source file per kernel, which the
 * device's runtime compiles (NVRTC, hiprtc, shaderc). A target owns its code generator
 * ({@code Target.codegen()}); the schedule rules never see one.
 */
public interface CodeGenerator {

    /** The language, for people: {@code CUDA C}, {@code HIP}, {@code GLSL compute}. */
    String language();

    /** Extension of a kernel's source file: {@code cu}, {@code hip}, {@code comp}. */
    String fileExtension();

    /** The kernel's whole source. Deterministic: the same kernel gives the same text. */
    String emit(Kernel k);
}
