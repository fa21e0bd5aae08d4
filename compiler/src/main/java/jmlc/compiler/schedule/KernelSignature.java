package jmlc.compiler.schedule;

import jmlc.compiler.target.Target;

/**
 * What a kernel's knobs are tuned for: the rule's kind of kernel, the shapes and types it was made
 * for, and the target. The tuning database is keyed by it; kernel names start with {@link #key()}.
 * Rules build one only through {@link ScheduleContext#signature}, so every signature names its target.
 *
 * @param kind   the rule's kernel family: {@code gemvh}, {@code gemm}, {@code attention_decode} ...
 * @param shape  what distinguishes one instance: {@code q4f16g32z7_4096x4096}, {@code h32_kv32_d128_c4096_f16}
 * @param target the target it runs on
 */
public record KernelSignature(String kind, String shape, Target target) {

    public KernelSignature {
        if (!kind.matches("[a-z0-9_]+") || !shape.matches("[A-Za-z0-9_]*"))
            throw new IllegalArgumentException("signature parts are lowercase words and digits: '" + kind + "', '" + shape + "'");
    }

    /** {@code kind_shape}: the start of the kernel's name, the same on every target. */
    public String key() {
        return key(kind, shape);
    }

    /** {@link #key()} of any signature of {@code kind} and {@code shape}, whatever its target: for knobs set on every target. */
    public static String key(String kind, String shape) {
        return shape.isEmpty() ? kind : kind + "_" + shape;
    }

    /** {@code kind_shape@cuda:sm_90}: the tuning database's key. */
    @Override
    public String toString() {
        return key() + "@" + target;
    }
}
