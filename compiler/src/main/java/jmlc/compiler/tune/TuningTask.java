package jmlc.compiler.tune;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.KnobSpace;

import java.util.Map;

/**
 * One kernel signature to tune: its knob space, the region of the model whose kernels it makes
 * (cut out with {@link Region}), and how the model runs it: in the decode program (one token a
 * step, at {@code position} tokens of context) or the prefill program ({@code seq} tokens from
 * position 0). Every candidate is compiled for the region through the one compile path, checked
 * against the reference interpreter and timed as the model would run it.
 *
 * @param rule     the schedule rule that declared the space ({@code gemv_f16}, {@code gemm} ...)
 * @param uses     nodes of the program with this signature: launches of its kernels a step, so a
 *                 kernel's share of the step is its time times its uses
 * @param current  the values the model compiles with now (the defaults over the tuning database)
 * @param checkSeq the step lengths a candidate is checked at against the reference interpreter
 *                 (decode: 1; prefill: lengths that reach every path of a rule, e.g. a partial
 *                 tile and a short prompt's split-K, kept small enough for the interpreter)
 */
public record TuningTask(KernelSignature signature, KnobSpace space, String rule, Graph region, boolean decode, int seq, int position,
                         int uses, Map<String, Integer> current, int[] checkSeq) {

    public TuningTask {
        current = Map.copyOf(current);
        checkSeq = checkSeq.clone();
    }

    /** {@code decode at 256} / {@code prefill of 512}: how the task is timed. */
    public String timedAs() {
        return decode ? "decode at position " + position : "prefill of " + seq + " tokens";
    }

    @Override
    public String toString() {
        return signature + " (" + rule + ", " + uses + "x a step, " + timedAs() + ")";
    }
}
