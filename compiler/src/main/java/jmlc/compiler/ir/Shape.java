package jmlc.compiler.ir;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** A tensor shape; dimensions may be symbolic (see {@link Dim}). Row-major. */
public record Shape(List<Dim> dims) {

    public Shape {
        dims = List.copyOf(dims);
    }

    public static Shape of(Dim... dims) {
        return new Shape(Arrays.asList(dims));
    }

    public static Shape of(long... sizes) {
        return new Shape(Arrays.stream(sizes).mapToObj(Dim::of).toList());
    }

    public static final Shape SCALAR = new Shape(List.of());

    public int rank() {
        return dims.size();
    }

    public Dim dim(int i) {
        return dims.get(i < 0 ? dims.size() + i : i);
    }

    /** The last dimension's fixed size (the row length of a 2-D activation). */
    public long cols() {
        return dim(-1).size();
    }

    public boolean isFixed() {
        return dims.stream().allMatch(Dim::isFixed);
    }

    /** Number of elements under the given bindings. */
    public long numel(Bindings b) {
        long n = 1;
        for (Dim d : dims) n *= d.eval(b);
        return n;
    }

    /** Number of elements of a fixed shape. */
    public long numel() {
        long n = 1;
        for (Dim d : dims) n *= d.size();
        return n;
    }

    public long[] eval(Bindings b) {
        return dims.stream().mapToLong(d -> d.eval(b)).toArray();
    }

    @Override
    public String toString() {
        return dims.stream().map(Object::toString).collect(Collectors.joining(", ", "[", "]"));
    }
}
