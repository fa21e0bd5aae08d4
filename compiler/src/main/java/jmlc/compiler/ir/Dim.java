package jmlc.compiler.ir;

/** One dimension of a tensor shape: a fixed size, or a symbol bound at run time ({@code seq}, {@code ctx}). */
public sealed interface Dim {

    record Fixed(long size) implements Dim {
        public Fixed {
            if (size < 0) throw new IllegalArgumentException("negative dimension " + size);
        }

        @Override
        public String toString() {
            return Long.toString(size);
        }
    }

    record Sym(String name) implements Dim {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Number of new tokens in a step: the prompt length in prefill, 1 in decode. */
    Sym SEQ = new Sym("seq");

    static Dim of(long size) {
        return new Fixed(size);
    }

    /** The size under the given bindings of symbols. */
    default long eval(Bindings b) {
        return switch (this) {
            case Fixed f -> f.size();
            case Sym s -> b.get(s.name());
        };
    }

    default boolean isFixed() {
        return this instanceof Fixed;
    }

    /** The fixed size; throws if the dimension is symbolic. */
    default long size() {
        return switch (this) {
            case Fixed f -> f.size();
            case Sym s -> throw new IllegalStateException("dimension '" + s.name() + "' is symbolic");
        };
    }
}
