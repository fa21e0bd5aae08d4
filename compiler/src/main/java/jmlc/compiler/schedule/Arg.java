package jmlc.compiler.schedule;

import jmlc.compiler.ir.Value;

/** What a kernel's buffer parameter is bound to when the runtime launches it. */
public sealed interface Arg {

    /** A graph value's buffer: an input (tokens, pos), a temp (memory-plan slot), a state (KV cache), or the output. */
    record Tensor(Value value) implements Arg {}

    /** The packed values of a quantized param, or all of a dense param. */
    record WeightData(Value param) implements Arg {}

    /** The group scales of a quantized param. */
    record WeightScales(Value param) implements Arg {}

    /** The f16 scales of an int8 KV cache, in the state's own buffer ({@code Int8KvCache}). */
    record StateScales(Value state) implements Arg {}

    /** A table the compiler computed (rope cos/sin), uploaded once. {@code name} is unique per content. */
    record Constant(String name, float[] values) implements Arg {}

    /** Working memory of one launch sequence (split-KV partial results), not kept across steps. */
    record Scratch(String name, long bytes) implements Arg {}
}
