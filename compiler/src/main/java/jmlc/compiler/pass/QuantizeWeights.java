package jmlc.compiler.pass;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphBuilder;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;
import jmlc.compiler.quant.QuantMode;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Chooses the stored format of every weight for a {@link QuantMode}: matmul weights and the
 * embedding table become group-quantized (or dense f16/f32 in q0 modes); norm weights and biases
 * stay f32. A matmul over a quantized weight reads it through an explicit {@code dequantize} node,
 * which {@link FuseDequantMatmul} then folds into the matmul. Loaders produce what the params'
 * types say.
 */
public final class QuantizeWeights implements Pass {
    private final QuantMode mode;

    public QuantizeWeights(QuantMode mode) {
        this.mode = mode;
    }

    @Override
    public String name() {
        return "QuantizeWeights(" + mode.id() + ")";
    }

    @Override
    public Graph apply(Graph g) {
        GraphBuilder b = GraphBuilder.from(g);
        Map<Value, Boolean> matrices = new IdentityHashMap<>();
        for (Node n : g.nodes()) {
            if (n.op() instanceof Op.MatMul && n.input(1).kind() == Value.Kind.PARAM) matrices.put(n.input(1), true);
            if (n.op() instanceof Op.Embed && n.input(0).kind() == Value.Kind.PARAM) matrices.put(n.input(0), true);
        }
        for (Value p : g.params()) {
            if (!matrices.containsKey(p) || p.type().dtype() != DType.F32) continue;
            QuantScheme s = mode.scheme();
            long rows = p.type().shape().dim(0).size(), cols = p.type().shape().dim(1).size();
            if (s != null && cols % s.groupSize() == 0) b.replaceParam(p, TensorType.quantized(s, rows, cols));
            else if (mode.denseType() != DType.F32) b.replaceParam(p, p.type().withDtype(mode.denseType()));
        }
        Map<Value, Value> dequantized = new IdentityHashMap<>();
        for (Node n : g.nodes()) {
            if (n.op() instanceof Op.MatMul && b.map(n.input(1)).type().dtype().isQuantized()) {
                Value wq = b.map(n.input(1));
                Value w = dequantized.computeIfAbsent(wq, k -> b.apply(k.name() + ".dequantized", new Op.Dequantize(), k));
                Value[] in = n.inputs().stream().map(b::map).toArray(Value[]::new);
                in[1] = w;
                b.alias(n.output(), b.apply(n.output().name(), n.op(), in));
            } else {
                b.copy(n);
            }
        }
        return b.finishRewrite();
    }
}
