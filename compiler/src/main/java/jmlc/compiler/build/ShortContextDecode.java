package jmlc.compiler.build;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.Knob;
import jmlc.compiler.schedule.KnobSpace;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.rule.AttentionDecodeRule;
import jmlc.compiler.target.Target;

/**
 * A second decode program for the first positions of a sequence, where the context is short: the
 * same kernels but the decode attention in one block per KV head that scores every position and
 * writes the output itself ({@link AttentionDecodeRule#oneSplit}), so a layer has no combine kernel.
 * The runtime captures both programs and replays this one while the step's position is below the
 * threshold (the knob {@code positions}), the split attention (flash-decoding) beyond it, where one
 * block per head would read too long a context alone.
 *
 * <p>Where it stops paying: one block per KV head reads the context alone, so its time grows with the
 * position over the KV heads, while the split attention's barely grows; what one step saves is a
 * kernel boundary and the combine a layer, dearer through Vulkan than in a CUDA graph. So the default
 * threshold is a platform's positions per KV head times the model's KV heads. Measured on the H200,
 * 2026-12-04 ({@code ShortContextSweep}: one captured decode step of each program at positions 0 to
 * 4000, q4f16_1), the position where the split attention became the faster, through Vulkan / CUDA:
 * Llama-2-7B (32 KV heads) about 340 / 240, Llama-2-13B (40) 450 / 185, Llama-3-8B (8 KV heads of 4
 * query heads each) 100 / 70; at position 0 one block was 4.0 to 4.6% / 2.3 to 3.5% faster, at 4000
 * 41% / 48% slower. Hence 10 positions a KV head through Vulkan. Through CUDA 6 at first (7B: 192); since the one
 * block reads the position and asks the L2 for its first cached rows before it waits for the qkv GEMV, where the
 * target has bulk L2 prefetches and dependent launches ({@link AttentionDecodeRule#ONE_SPLIT_KV_PREFETCH}), it pays
 * longer. On an H100, 2026-12-06 (the same sweep, positions 0 to 768 a step of 64): split faster from about 340 (7B),
 * 70 (8B), 620 (13B), that is 10.6, 8.8 and 15.5 positions a KV head; so 10 through CUDA too (7B 320, 8B 80, 13B 400;
 * end to end against 6, decode 565.3, 564.6 -> 566.4, 565.7 tok/s for 7B, 311.6 -> 312.9, 312.8 for 13B, 8B the same).
 * The crossover is the card's
 * and the model's (the H200 had 13B's at 185 without the prefetch): {@code jmlc tune} times it
 * ({@code ShortContextTuning}) and keeps it per attention shape. Other platforms have not been measured and
 * default to 0 (off).
 */
public final class ShortContextDecode {
    private ShortContextDecode() {}

    public static final String KIND = "decode_short_context";

    /** The default threshold a KV head through Vulkan, and through CUDA (see the class comment). */
    public static final int VULKAN_POSITIONS_PER_KV_HEAD = 10, CUDA_POSITIONS_PER_KV_HEAD = 10;

    /** The default threshold for a model of {@code kvHeads} KV heads on {@code target}, within {@code maxPositions}. */
    public static int defaultPositions(Target target, int kvHeads, int maxPositions) {
        int perHead = switch (target.platform()) {
            case VULKAN -> VULKAN_POSITIONS_PER_KV_HEAD;
            case CUDA -> CUDA_POSITIONS_PER_KV_HEAD;
            default -> 0;
        };
        return Math.min(perHead * kvHeads, maxPositions);
    }

    /**
     * The knob for a model whose decode attention has the shape {@code attentionShape} ({@link AttentionDecodeRule#shape}):
     * positions below which the short-context program runs (0: never). Its signature carries the attention's shape, so a
     * tuning database holds a threshold per model; an entry without a shape ({@link #KIND} alone) sets every model's.
     */
    public static KnobSpace space(Target target, String attentionShape, int kvHeads, int maxPositions) {
        int def = defaultPositions(target, kvHeads, maxPositions);
        return new KnobSpace(new KernelSignature(KIND, attentionShape, target))
                .add(Knob.range("positions", def, 0, maxPositions,
                        "decode steps at positions below this run the short-context program (one attention block per KV head, no combine); 0: never",
                        0, 128, 256, 512, 1024));
    }

    /** The knob for {@code graph}: its attention's shape, KV heads and cache length; empty for a graph without attention. */
    public static java.util.Optional<KnobSpace> space(Target target, Graph graph) {
        return graph.nodes().stream().filter(n -> n.op() instanceof Op.Attention).findFirst()
                .map(att -> space(target, AttentionDecodeRule.shape(att), ((Op.Attention) att.op()).nKvHeads(), (int) att.input(1).type().shape().dim(1).size()));
    }

    /**
     * The threshold {@code knobs} give for {@code graph} on {@code target} (the entry for its attention's shape over one
     * for every model), or its default; 0 for a graph without attention.
     */
    public static int positions(Knobs knobs, Target target, Graph graph) {
        return space(target, graph).map(s -> {
            java.util.Map<String, Integer> v = new java.util.LinkedHashMap<>(knobs.values(new KernelSignature(KIND, "", target)));
            v.putAll(knobs.values(s.signature()));
            return s.resolve(v).get("positions");
        }).orElse(0);
    }

    /** {@code knobs} with every decode attention of {@code graph} set to one split ({@link AttentionDecodeRule#oneSplit}). */
    static Knobs attentionInOneSplit(Graph graph, Target target, Knobs knobs) {
        Knobs out = Knobs.defaults().with(knobs);
        for (Node n : graph.nodes())
            if (n.op() instanceof Op.Attention) {
                KernelSignature sig = new KernelSignature(AttentionDecodeRule.KIND, AttentionDecodeRule.shape(n), target);
                out.put(sig, AttentionDecodeRule.oneSplit(n, target, knobs.values(sig)));
            }
        return out;
    }
}
