package jmlc.compiler.ir;

/**
 * A tensor in a graph. Values are compared by identity: two values with the same name and type
 * are different tensors.
 *
 * @param id   unique within its graph's lineage, used for printing ({@code %id})
 * @param name a readable name ({@code layers.3.attn_out}); params use their weight name
 * @param type element type and shape
 * @param kind where the value comes from
 */
public record Value(int id, String name, TensorType type, Kind kind) {

    public enum Kind {
        /** Supplied per run: token ids, the start position. */
        INPUT,
        /** A model weight, read-only. */
        PARAM,
        /** Persistent across runs and updated in place: the KV cache. */
        STATE,
        /** Produced by a node. */
        TEMP
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    /**
     * An activation ({@code [seq, cols]}: a graph input or a node's result, not a weight or a KV cache) stored as f16
     * ({@code HalfMatmulInputs}): its readers see it rounded, and kernels reading or writing it say so in their name.
     */
    public boolean isHalfActivation() {
        return (kind == Kind.TEMP || kind == Kind.INPUT) && type.dtype() == DType.F16 && type.shape().rank() == 2;
    }

    /** How the value prints in IR dumps: {@code @name} for params and state, {@code %id} otherwise. */
    public String ref() {
        return switch (kind) {
            case PARAM, STATE -> "@" + name;
            case INPUT -> "$" + name;
            case TEMP -> "%" + id;
        };
    }

    @Override
    public String toString() {
        return ref() + ":" + type;
    }
}
