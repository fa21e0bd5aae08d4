package jmlc.compiler;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.ir.Value;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.tensor.HostTensor;
import jmlc.compiler.tensor.WeightPacker;

import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/** Random weights for a tiny config, by checkpoint tensor name, and packing them for any graph. */
public final class TinyModel {
    public final ModelConfig config;
    public final Map<String, float[]> tensors = new HashMap<>();
    public final Map<String, long[]> shapes = new HashMap<>();

    public TinyModel(ModelConfig config, Graph unfused, long seed) {
        this.config = config;
        Random r = new Random(seed);
        for (Value p : unfused.params()) {
            long[] shape = p.type().shape().dims().stream().mapToLong(d -> d.size()).toArray();
            int n = (int) p.type().shape().numel();
            float[] w = new float[n];
            boolean norm = shape.length == 1 && p.name().endsWith("norm.weight");
            // 0.2 at the tiny configs' 64 inputs a row, shrinking as 1/sqrt(inputs) past them (as trained
            // weights do): at head size 128 a flat 0.2 made attention scores of standard deviation ~10, a
            // softmax so sharp that f16 rounding of q and k moved whole-model logits by more than 1%
            float scale = shape.length == 1 ? 0.2f : 0.2f * (float) Math.min(1, Math.sqrt(64.0 / shape[1]));
            for (int i = 0; i < n; i++) w[i] = norm ? 1f + 0.1f * (float) r.nextGaussian() : scale * (float) r.nextGaussian();
            tensors.put(p.name(), w);
            shapes.put(p.name(), shape);
        }
    }

    public static ModelConfig config(Architecture arch, int layers, int heads, int kvHeads, boolean tied) {
        int headDim = 16;
        return new ModelConfig(arch, 96, heads * headDim, 128, layers, heads, kvHeads, headDim, 1e-5, 10000,
                new RopeSpec.Scaling.None(), RopeSpec.Style.HALF, 64, tied, arch.attentionBias());
    }

    /** Packs each param of {@code g} from the named tensors (concatenating rows of its sources). */
    public Function<Value, HostTensor> weights(Graph g, Arena arena) {
        Map<Value, HostTensor> packed = new HashMap<>();
        for (Value p : g.params()) {
            Graph.WeightSource ws = g.weightSource(p);
            List<String> src = ws.tensors();
            long[] rowsPer = src.stream().mapToLong(s -> shapes.get(s)[0]).toArray();
            packed.put(p, WeightPacker.pack(p.type(), (row, out) -> {
                if (shapes.get(src.getFirst()).length == 1) { // 1-D: biases concatenated into one row
                    for (String s : src) System.arraycopy(tensors.get(s), 0, out, (int) offset1d(src, s), (int) shapes.get(s)[0]);
                    return;
                }
                long[] at = ws.locate(row, rowsPer);
                String s = src.get((int) at[0]);
                long cols = shapes.get(s)[1];
                System.arraycopy(tensors.get(s), (int) (at[1] * cols), out, 0, (int) cols);
            }, arena));
        }
        return packed::get;
    }

    private long offset1d(List<String> src, String name) {
        long off = 0;
        for (String s : src) {
            if (s.equals(name)) return off;
            off += shapes.get(s)[0];
        }
        throw new AssertionError(name);
    }

    public static double relError(float[] out, float[] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            if (Float.isNaN(out[i])) return Double.NaN;
            num += Math.pow(out[i] - ref[i], 2);
            den += Math.pow(ref[i], 2);
        }
        return Math.sqrt(num / den);
    }
}
