package jmlc.compiler.pass;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphBuilder;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges dense matmuls that read the same activation into one wider matmul followed by column
 * slices: q, k and v projections become one {@code qkv_proj} ({@code [(H + 2·nKv)·hd, D]}), gate
 * and up become {@code gate_up_proj} ({@code [2F, D]}). One GEMV reading all the rows runs closer
 * to bandwidth than three small ones, and later fusions consume the slices. The new param is the
 * row-wise concatenation of the originals' checkpoint tensors (biases likewise).
 */
public final class FuseParallelMatmuls implements Pass {

    @Override
    public Graph apply(Graph g) {
        Map<Value, List<Node>> byInput = new LinkedHashMap<>();
        for (Node n : g.nodes())
            if (n.op() instanceof Op.MatMul && n.input(1).kind() == Value.Kind.PARAM && !n.input(1).type().dtype().isQuantized()
                    && (n.inputs().size() == 2 || n.input(2).kind() == Value.Kind.PARAM))
                byInput.computeIfAbsent(n.input(0), k -> new ArrayList<>()).add(n);
        Map<Node, List<Node>> groups = new IdentityHashMap<>();
        for (List<Node> ms : byInput.values()) {
            boolean sameBias = ms.stream().allMatch(m -> m.inputs().size() == ms.getFirst().inputs().size());
            boolean sameType = ms.stream().allMatch(m -> m.input(1).type().dtype() == ms.getFirst().input(1).type().dtype());
            if (ms.size() >= 2 && sameBias && sameType) groups.put(ms.getFirst(), ms);
        }
        if (groups.isEmpty()) return g;

        GraphBuilder b = GraphBuilder.from(g);
        Map<Node, Boolean> skip = new IdentityHashMap<>();
        for (Node n : g.nodes()) {
            if (skip.containsKey(n)) continue;
            List<Node> group = groups.get(n);
            if (group == null) {
                b.copy(n);
                continue;
            }
            List<Value> ws = group.stream().map(m -> m.input(1)).toList();
            boolean bias = n.inputs().size() == 3;
            long rows = ws.stream().mapToLong(w -> w.type().shape().dim(0).size()).sum();
            long cols = ws.getFirst().type().shape().dim(1).size();
            String name = fusedName(ws.stream().map(Value::name).toList());
            Value w = b.param(name, TensorType.of(ws.getFirst().type().dtype(), rows, cols), concat(g, ws));
            Value y;
            if (bias) {
                List<Value> bs = group.stream().map(m -> m.input(2)).toList();
                Value bv = b.param(fusedName(bs.stream().map(Value::name).toList()), TensorType.of(bs.getFirst().type().dtype(), rows), concat(g, bs));
                y = b.apply(fusedOutName(group), new Op.MatMul(), b.map(n.input(0)), w, bv);
            } else {
                y = b.apply(fusedOutName(group), new Op.MatMul(), b.map(n.input(0)), w);
            }
            long start = 0;
            for (Node m : group) {
                long len = m.input(1).type().shape().dim(0).size();
                b.alias(m.output(), b.apply(m.output().name(), new Op.Slice(start, len), y));
                start += len;
                skip.put(m, true);
            }
        }
        return b.finishRewrite();
    }

    private static Graph.WeightSource concat(Graph g, List<Value> params) {
        List<String> tensors = new ArrayList<>();
        for (Value p : params) tensors.addAll(g.weightSource(p).tensors());
        return new Graph.WeightSource(tensors);
    }

    /**
     * {@code model.layers.0.self_attn.q_proj.weight} + {@code k_proj} + {@code v_proj} ->
     * {@code model.layers.0.self_attn.qkv_proj.weight}; {@code gate_proj} + {@code up_proj} -> {@code gate_up_proj}.
     */
    static String fusedName(List<String> names) {
        String first = names.getFirst();
        int dot = first.lastIndexOf('.', first.lastIndexOf('.') - 1);
        String prefix = first.substring(0, dot + 1), suffix = first.substring(first.lastIndexOf('.'));
        StringBuilder parts = new StringBuilder();
        boolean singleLetters = names.stream().allMatch(n -> part(n, prefix, suffix).length() == 1);
        for (String n : names) {
            String p = part(n, prefix, suffix);
            if (!singleLetters && !parts.isEmpty()) parts.append('_');
            parts.append(p);
        }
        return prefix + parts + "_proj" + suffix;
    }

    private static String part(String name, String prefix, String suffix) {
        String mid = name.startsWith(prefix) && name.endsWith(suffix) ? name.substring(prefix.length(), name.length() - suffix.length()) : name;
        return mid.endsWith("_proj") ? mid.substring(0, mid.length() - 5) : mid;
    }

    private static String fusedOutName(List<Node> group) {
        String first = group.getFirst().output().name();
        String prefix = first.contains(".") ? first.substring(0, first.lastIndexOf('.') + 1) : "";
        StringBuilder sb = new StringBuilder(prefix);
        for (Node m : group) {
            String n = m.output().name();
            sb.append(n.substring(n.lastIndexOf('.') + 1));
        }
        return sb.toString();
    }
}
