package jmlc.compiler.ir;

import java.util.List;

/** One operation in a graph: an {@link Op} applied to input values, producing output values. */
public record Node(Op op, List<Value> inputs, List<Value> outputs) {

    public Node {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    public Value input(int i) {
        return inputs.get(i);
    }

    public Value output() {
        if (outputs.size() != 1) throw new IllegalStateException(op.name() + " has " + outputs.size() + " outputs");
        return outputs.getFirst();
    }

    public Value output(int i) {
        return outputs.get(i);
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
