package jmlc.engine.model;

import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.tensor.FloatWeights;

/**
 * A Llama forward pass in double precision written straight from the model's definition (Hugging
 * Face names, rotate_half rope, causal GQA attention), sharing no code with the compiler: the
 * independent reference the engine's logits are checked against.
 */
final class Float64Llama {
    private final ModelConfig c;
    private final FloatWeights w;
    private final boolean half;

    Float64Llama(ModelConfig c, FloatWeights w) {
        this(c, w, false);
    }

    /**
     * @param half round to f16 what the f16 modes store as f16: keys and values (the KV cache), and the activations
     *             only a matmul reads (the attention output, o's input; silu(gate)·up, down's input)
     */
    Float64Llama(ModelConfig c, FloatWeights w, boolean half) {
        this.c = c;
        this.w = w;
        this.half = half;
    }

    private void roundToHalf(double[][] m) {
        if (half) for (double[] row : m) for (int i = 0; i < row.length; i++) row[i] = jmlc.compiler.quant.Half.roundToHalf((float) row[i]);
    }

    private float[] t(String name) {
        return w.tensors().get(name).values();
    }

    /** Logits for every position of {@code tokens}: {@code [tokens.length][vocab]}. */
    double[][] logits(int[] tokens) {
        int n = tokens.length, d = c.hiddenSize(), hd = c.headDim(), nh = c.numHeads(), nkv = c.numKvHeads();
        double[][] x = new double[n][d];
        float[] emb = t("model.embed_tokens.weight");
        for (int s = 0; s < n; s++) for (int i = 0; i < d; i++) x[s][i] = emb[tokens[s] * d + i];
        double[] inv = c.rope().invFreq();
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] h = norm(x, t(p + "input_layernorm.weight"));
            double[][] q = linear(h, p + "self_attn.q_proj", nh * hd);
            double[][] k = linear(h, p + "self_attn.k_proj", nkv * hd);
            double[][] v = linear(h, p + "self_attn.v_proj", nkv * hd);
            rope(q, nh, hd, inv);
            rope(k, nkv, hd, inv);
            roundToHalf(k);
            roundToHalf(v);
            double[][] att = new double[n][nh * hd];
            for (int s = 0; s < n; s++)
                for (int head = 0; head < nh; head++) {
                    int g = head / (nh / nkv);
                    double[] sc = new double[s + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int t = 0; t <= s; t++) {
                        double dot = 0;
                        for (int i = 0; i < hd; i++) dot += q[s][head * hd + i] * k[t][g * hd + i];
                        sc[t] = dot / Math.sqrt(hd);
                        max = Math.max(max, sc[t]);
                    }
                    double sum = 0;
                    for (int t = 0; t <= s; t++) sum += sc[t] = Math.exp(sc[t] - max);
                    for (int i = 0; i < hd; i++) {
                        double a = 0;
                        for (int t = 0; t <= s; t++) a += sc[t] * v[t][g * hd + i];
                        att[s][head * hd + i] = a / sum;
                    }
                }
            roundToHalf(att);
            add(x, linear(att, p + "self_attn.o_proj", d));
            h = norm(x, t(p + "post_attention_layernorm.weight"));
            double[][] gate = linear(h, p + "mlp.gate_proj", c.intermediateSize());
            double[][] up = linear(h, p + "mlp.up_proj", c.intermediateSize());
            for (int s = 0; s < n; s++)
                for (int i = 0; i < gate[s].length; i++) gate[s][i] = gate[s][i] / (1 + Math.exp(-gate[s][i])) * up[s][i];
            roundToHalf(gate);
            add(x, linear(gate, p + "mlp.down_proj", d));
        }
        double[][] h = norm(x, t("model.norm.weight"));
        String head = c.tieEmbeddings() ? "model.embed_tokens" : "lm_head";
        return linear(h, head, c.vocabSize());
    }

    private double[][] norm(double[][] x, float[] g) {
        double[][] o = new double[x.length][];
        for (int s = 0; s < x.length; s++) {
            double ss = 0;
            for (double v : x[s]) ss += v * v;
            double inv = 1 / Math.sqrt(ss / x[s].length + c.rmsNormEps());
            o[s] = new double[x[s].length];
            for (int i = 0; i < g.length; i++) o[s][i] = x[s][i] * inv * g[i];
        }
        return o;
    }

    private double[][] linear(double[][] x, String prefix, int rows) {
        float[] m = t(prefix + ".weight");
        float[] bias = w.tensors().containsKey(prefix + ".bias") ? t(prefix + ".bias") : null;
        int cols = x[0].length;
        double[][] y = new double[x.length][rows];
        for (int s = 0; s < x.length; s++)
            for (int r = 0; r < rows; r++) {
                double a = bias == null ? 0 : bias[r];
                for (int i = 0; i < cols; i++) a += x[s][i] * m[r * cols + i];
                y[s][r] = a;
            }
        return y;
    }

    /** rotate_half: value i pairs with i + hd/2, angle = position · invFreq[i]. */
    private static void rope(double[][] x, int heads, int hd, double[] inv) {
        for (int s = 0; s < x.length; s++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < hd / 2; i++) {
                    double a = x[s][h * hd + i], b = x[s][h * hd + i + hd / 2], ang = s * inv[i];
                    x[s][h * hd + i] = a * Math.cos(ang) - b * Math.sin(ang);
                    x[s][h * hd + i + hd / 2] = a * Math.sin(ang) + b * Math.cos(ang);
                }
    }

    private static void add(double[][] x, double[][] y) {
        for (int s = 0; s < x.length; s++) for (int i = 0; i < x[s].length; i++) x[s][i] += y[s][i];
    }
}
