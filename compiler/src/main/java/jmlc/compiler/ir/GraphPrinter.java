package jmlc.compiler.ir;

import java.util.stream.Collectors;

/**
 * Text form of a graph for IR dumps ({@code jmlc compile --emit}, {@code %ir}):
 * <pre>
 * %12:f32[seq, 4096] = rms_norm(%11, @model.layers.0.input_layernorm.weight) eps=1.0E-5
 * </pre>
 */
public final class GraphPrinter {
    private GraphPrinter() {}

    public static String print(Graph g) {
        StringBuilder sb = new StringBuilder();
        sb.append("graph ").append(g.name()).append(" {\n");
        for (Value v : g.inputs()) sb.append("  input ").append(v).append('\n');
        for (Value v : g.states()) sb.append("  state ").append(v).append('\n');
        for (Value v : g.params()) {
            sb.append("  param ").append(v);
            var src = g.weightSource(v).tensors();
            if (src.size() != 1 || !src.getFirst().equals(v.name()))
                sb.append(g.weightSource(v).interleaved() ? " = interleave_rows(" : " = concat(").append(String.join(", ", src)).append(')');
            sb.append('\n');
        }
        for (Node n : g.nodes()) sb.append("  ").append(node(n)).append('\n');
        for (var e : g.stateUpdates().entrySet()) sb.append("  update ").append(e.getKey().ref()).append(" <- ").append(e.getValue().ref()).append('\n');
        sb.append("  return ").append(g.outputs().stream().map(Value::ref).collect(Collectors.joining(", "))).append('\n');
        return sb.append("}\n").toString();
    }

    public static String node(Node n) {
        String outs = n.outputs().stream().map(Value::toString).collect(Collectors.joining(", "));
        String ins = n.inputs().stream().map(Value::ref).collect(Collectors.joining(", "));
        String attrs = attributes(n.op());
        return outs + " = " + n.op().name() + "(" + ins + ")" + (attrs.isEmpty() ? "" : " " + attrs);
    }

    private static String attributes(Op op) {
        return switch (op) {
            case Op.RmsNorm r -> "eps=" + r.eps();
            case Op.AddRmsNorm r -> "eps=" + r.eps();
            case Op.Slice s -> "cols=" + s.start() + ":" + (s.start() + s.len());
            case Op.Rope r -> rope(r.spec());
            case Op.RopeKvAppend r -> rope(r.spec()) + " heads=" + r.nHeads() + " kv_heads=" + r.nKvHeads();
            case Op.Attention a -> "heads=" + a.nHeads() + " kv_heads=" + a.nKvHeads() + " head_dim=" + a.headDim();
            case Op.Embed e -> "";
            case Op.MatMul m -> "";
            case Op.QMatMul m -> "";
            case Op.Add a -> "";
            case Op.Mul m -> "";
            case Op.Silu s -> "";
            case Op.SiluMul s -> "";
            case Op.KvAppend k -> "";
            case Op.LastRow l -> "";
            case Op.Dequantize d -> "";
            case Op.FusedMatMul f -> switch (f.prologue()) {
                case Op.Prologue.None n -> "";
                case Op.Prologue.RmsNorm r -> "prologue=rms_norm(eps=" + r.eps() + ")";
                case Op.Prologue.SiluMul m -> "prologue=silu_mul";
            } + (f.bias() ? " bias" : "") + (f.residual() ? " epilogue=+residual" : "") + (f.siluMulPairs() ? " epilogue=silu_mul(pairs)" : "");
        };
    }

    private static String rope(RopeSpec s) {
        return "theta=" + s.theta() + " style=" + s.style().name().toLowerCase() +
                (s.scaling() instanceof RopeSpec.Scaling.None ? "" : " scaling=" + s.scaling());
    }
}
