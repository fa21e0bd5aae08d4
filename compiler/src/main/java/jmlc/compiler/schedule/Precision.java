package jmlc.compiler.schedule;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Node;
import jmlc.compiler.quant.Int8KvCache;
import jmlc.compiler.target.Platform;
import jmlc.compiler.target.Target;

import java.util.Set;

/**
 * How far a schedule's kernels may stray from the reference interpreter (‖out − ref‖ / ‖ref‖), by
 * rule: kernels in f32 arithmetic round like the reference up to summation order; the f16
 * kernels (GEMMs with f16 operands, the f16 GEMV's packed half2 products and sums)
 * round operands and partial sums to 11 bits, about 1e-3 relative; the 8-bit GEMV by integer dot
 * products ({@code gemv_dot4}) rounds x to 8 bits a group of 32: its nodes were 0.8 to 1.3% from the
 * reference in the GPU suite's checks (H200, 2026-12-04), and the logits of the tiny random models
 * of the simulator tests 2.2 to 10% over 200 seeds, median 3.3% (errors grow through layers of random
 * weights), so its bounds are 5e-2 a node and 0.15 a model: loose for rounding, far below the
 * O(1) error of a wrong scale or index. The f16 GEMV with its knob {@code dot4} (x in bytes a group of 32,
 * the 4-bit weights by integer dot products) rounds x the same way and takes the same bounds.
 */
public final class Precision {
    private Precision() {}

    /** Rules whose kernels compute in f16. */
    public static final Set<String> F16_RULES = Set.of("gemm", "gemm_tiled", "gemv_f16");

    /** Rules whose kernels round an operand to 8 bits. */
    public static final Set<String> INT8_RULES = Set.of("gemv_dot4");

    /** A node's bound where x is rounded to 8 bits, and a whole model's. */
    public static final double INT8_NODE = 5e-2, INT8_MODEL = 0.15;

    /**
     * Two f32 computations of a whole model's logits (the CPU's kernels and its reference, or a float64 pass) with f32
     * activations and cache agree to {@code F32_STORAGE_MODEL}; where both store activations or the cache as f16 (an f16
     * cache, f16 matmul inputs), to {@code F16_STORAGE_MODEL}: a value their sums put either side of an f16 rounding
     * boundary lands an f16 step (2^-11) apart, which alone moves the logits by about 1e-4 (seen at 1.5e-4).
     */
    public static final double F32_STORAGE_MODEL = 1e-4, F16_STORAGE_MODEL = 1e-3;

    /** Whether a step's kernels round x to 8 bits: an {@link #INT8_RULES} rule, or a kernel whose knob {@code dot4} is 1. */
    public static boolean roundsXTo8Bits(Program.Step s) {
        return INT8_RULES.contains(s.rule()) || s.calls().stream().anyMatch(c -> c.kernel().knobs().getOrDefault("dot4", 0) == 1);
    }

    /** Tolerance for one node's output given its inputs exactly. */
    public static double perNode(String rule) {
        return INT8_RULES.contains(rule) ? INT8_NODE : F16_RULES.contains(rule) ? 5e-3 : 1e-4;
    }

    /**
     * Tolerance for one node's output through {@code target}: through Vulkan twice the stated one for
     * the f32 rules. Vulkan lets exp() be off by 3 + 2|x| ULP and division by 2.5 ULP (the SPIR-V
     * precision tables), where CUDA's are within 2; lavapipe's softmax reached 1.02e-4 against the
     * 1e-4 stated for attention once in several runs of random seeds.
     */
    public static double perNode(String rule, Target target) {
        double stated = perNode(rule);
        return target.platform() == Platform.VULKAN && !F16_RULES.contains(rule) && !INT8_RULES.contains(rule) ? 2 * stated : stated;
    }

    /**
     * Nodes that write or read an int8 KV cache ({@link Int8KvCache}): a value a rounding apart from
     * the reference's may land on the next step of its group, an error of 1/254 of the group's
     * largest magnitude in that element, so a cache or an attention output is up to about 1e-3 off
     * where the f16 and f32 caches agree to 1e-4. Whole models compound these through the layers.
     */
    public static final double INT8_CACHE_NODE = 1e-2, INT8_CACHE_MODEL = 0.1;

    /** True when {@code n} reads or writes an int8 KV cache. */
    public static boolean touchesInt8Cache(Node n) {
        return n.inputs().stream().anyMatch(v -> Int8KvCache.is(v.type())) || n.outputs().stream().anyMatch(v -> Int8KvCache.is(v.type()));
    }

    /** {@link #perNode(String, Target)}, at least {@link #INT8_CACHE_NODE} for a node touching an int8 KV cache. */
    public static double perNode(String rule, Target target, boolean int8Cache) {
        double stated = perNode(rule, target);
        return int8Cache ? Math.max(stated, INT8_CACHE_NODE) : stated;
    }

    /**
     * Tolerance for step {@code s}'s node through {@code target}: its rule's ({@link #perNode(String, Target, boolean)}), or
     * the int8 rules' where its kernels round x to 8 bits ({@link #roundsXTo8Bits}).
     */
    public static double perNode(Program.Step s, Target target) {
        return perNode(s, s.node(), target);
    }

    /** The same for {@code node}, made by step {@code s}'s kernels (its own node, or one the step absorbed). */
    public static double perNode(Program.Step s, Node node, Target target) {
        double stated = roundsXTo8Bits(s) ? INT8_NODE : perNode(s.rule(), target);
        return touchesInt8Cache(node) ? Math.max(stated, INT8_CACHE_NODE) : stated;
    }

    /**
     * Whether {@code p}'s graph keeps an activation or a state (the KV cache) in f16, so that a value its kernels sum in
     * another order than the reference's may round to the other side of an f16 step: q0f16, or a f16 cache.
     */
    public static boolean storesF16(Program p) {
        return p.graph().states().stream().anyMatch(v -> v.type().dtype() == DType.F16)
                || p.graph().nodes().stream().flatMap(n -> n.outputs().stream()).anyMatch(v -> v.type().dtype() == DType.F16);
    }

    /**
     * Tolerance for a whole model's logits from a program (errors add up over layers): the int8 bound where x is rounded
     * to 8 bits, 1e-2 with f16 arithmetic, {@link #F16_STORAGE_MODEL} with f32 arithmetic on f16 activations or cache
     * (q0f16: 3.7e-5 at the median, 2.7e-4 at the 90th percentile and 7.6e-4 at the worst of 150 tiny random models,
     * 2026-12-07, where CI once failed at 5.3e-4 against the 5e-4 it had), else 5e-4.
     */
    public static double wholeModel(Program p) {
        double stated = p.steps().stream().anyMatch(Precision::roundsXTo8Bits) ? INT8_MODEL
                : p.steps().stream().anyMatch(s -> F16_RULES.contains(s.rule())) ? 1e-2 : storesF16(p) ? F16_STORAGE_MODEL : 5e-4;
        return p.graph().states().stream().anyMatch(v -> Int8KvCache.is(v.type())) ? Math.max(stated, INT8_CACHE_MODEL) : stated;
    }
}
