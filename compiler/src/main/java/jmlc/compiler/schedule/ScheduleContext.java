package jmlc.compiler.schedule;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.target.Target;

/**
 * What rules see besides the node.
 *
 * @param decode  true for the decode program (one token per step: GEMV, split-KV attention);
 *                false for prefill (up to {@code maxSeq} tokens: GEMM, tiled attention)
 * @param maxSeq  most tokens a prefill step carries
 */
public record ScheduleContext(Graph graph, Target target, boolean decode, int maxSeq, Knobs knobs) {}
