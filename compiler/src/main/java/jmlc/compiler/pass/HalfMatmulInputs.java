package jmlc.compiler.pass;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphBuilder;
import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.Value;
import jmlc.compiler.quant.QuantMode;

/**
 * Stores in f16 the activations that only a matmul reads, as its input row: the attention output (o's x) and the
 * silu·mul output (down's x), where the mode's activations are f16 ({@link QuantMode#activations()}, MLC's
 * {@code q4f16}). The f16 GEMV and GEMMs round their x to f16 as they stage it, so on those paths the values they
 * compute with are the same; the writer stores half the bytes and, in decode, each block of the reading GEMV waits
 * on half as many bytes from the L2 before its first product (bench/stream-floor-probe: 0.09 ms of a 7B step when
 * every GEMV's x is f16).
 *
 * <p>Only values written by attention or a fused matmul and read by nothing but fused matmuls without a prologue
 * (as x) change: the residual stream and the inputs of norms stay f32, and so does anything the graph returns.
 */
public final class HalfMatmulInputs implements Pass {
    private final QuantMode mode;

    public HalfMatmulInputs(QuantMode mode) {
        this.mode = mode;
    }

    @Override
    public Graph apply(Graph g) {
        if (mode.activations() != DType.F16) return g;
        GraphBuilder b = GraphBuilder.from(g);
        boolean changed = false;
        for (Node n : g.nodes()) {
            Op half = halfWriter(g, n);
            if (half == null) {
                b.copy(n);
                continue;
            }
            Value[] in = n.inputs().stream().map(b::map).toArray(Value[]::new);
            b.alias(n.output(), b.apply(n.output().name(), half, in));
            changed = true;
        }
        return changed ? b.finishRewrite() : g;
    }

    /** {@code n}'s op writing f16, where n writes an f32 matmul input that nothing else reads; else null. */
    private static Op halfWriter(Graph g, Node n) {
        Op half = switch (n.op()) {
            case Op.Attention a when a.out() == DType.F32 -> a.writing(DType.F16);
            case Op.FusedMatMul f when f.out() == DType.F32 -> MatmulParts.of(n).writing(DType.F16).op();
            default -> null;
        };
        if (half == null || n.outputs().size() != 1) return null;
        Value out = n.output();
        if (g.outputs().contains(out) || g.stateUpdates().containsValue(out) || g.users(out).isEmpty()) return null;
        for (Node u : g.users(out)) {
            if (!(u.op() instanceof Op.FusedMatMul f) || !(f.prologue() instanceof Op.Prologue.None)) return null;
            for (int i = 1; i < u.inputs().size(); i++) if (u.input(i) == out) return null; // read as a residual or bias too
        }
        return half;
    }
}
