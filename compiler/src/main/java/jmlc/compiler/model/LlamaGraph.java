package jmlc.compiler.model;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Dim;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphBuilder;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;

/**
 * Emits the graph of one step of a Llama-family decoder (Llama 2/3, Mistral, TinyLlama, Qwen2),
 * exactly as the model computes it, one op per operation; passes fuse and quantize later.
 *
 * <pre>
 * x = embed(tokens)                                   // (seq, D)
 * per layer l:
 *   h = rms_norm(x) ; q,k,v = h·Wq, h·Wk, h·Wv (+bias)  // (seq, H·hd), (seq, nKv·hd) ×2
 *   q,k = rope(q), rope(k) ; append k, v to the layer's cache at pos
 *   x = x + attention(q, cache) · Wo
 *   h = rms_norm(x) ; x = x + (silu(h·Wgate) · h·Wup) · Wdown
 * logits = rms_norm(x) · Wlm_head                      // (seq or 1, V)
 * </pre>
 *
 * Param names are Hugging Face's; loaders map other formats' names onto them.
 */
public final class LlamaGraph {
    private LlamaGraph() {}

    /**
     * @param maxContext KV cache length in positions (at most the model's context window)
     * @param kvDtype    element type of the KV cache (F32 or F16)
     * @param allLogits  return logits for every position (for {@code jmlc logits}); otherwise the last only
     */
    public record Options(int maxContext, DType kvDtype, boolean allLogits) {
        public Options {
            if (maxContext <= 0) throw new IllegalArgumentException("KV cache length must be positive, found " + maxContext);
            if (kvDtype != DType.F32 && kvDtype != DType.F16) throw new IllegalArgumentException("KV cache is f32 or f16, not " + kvDtype);
        }
    }

    public static Graph build(ModelConfig c, Options o) {
        GraphBuilder b = new GraphBuilder(c.architecture().ggufName());
        long d = c.hiddenSize(), f = c.intermediateSize(), v = c.vocabSize();
        Value tokens = b.input("tokens", TensorType.of(DType.I32, Dim.SEQ));
        Value pos = b.input("pos", TensorType.scalar(DType.I32));
        Value embedTable = b.param("model.embed_tokens.weight", TensorType.of(DType.F32, v, d));

        Value x = b.apply("embed", new Op.Embed(), embedTable, tokens);
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            String n = "layers." + l + ".";
            Value kCache = b.state("k_cache." + l, TensorType.of(o.kvDtype(), c.numKvHeads(), o.maxContext(), c.headDim()));
            Value vCache = b.state("v_cache." + l, TensorType.of(o.kvDtype(), c.numKvHeads(), o.maxContext(), c.headDim()));

            // attention block
            Value h = b.apply(n + "attn_norm", new Op.RmsNorm(c.rmsNormEps()), x, norm(b, p + "input_layernorm.weight", d));
            Value q = linear(b, n + "q", h, p + "self_attn.q_proj", c.qDim(), d, c.attentionBias());
            Value k = linear(b, n + "k", h, p + "self_attn.k_proj", c.kvDim(), d, c.attentionBias());
            Value vv = linear(b, n + "v", h, p + "self_attn.v_proj", c.kvDim(), d, c.attentionBias());
            q = b.apply(n + "q_rope", new Op.Rope(c.rope()), q, pos);
            k = b.apply(n + "k_rope", new Op.Rope(c.rope()), k, pos);
            Value kNew = b.apply(n + "k_cache", new Op.KvAppend(), kCache, k, pos);
            Value vNew = b.apply(n + "v_cache", new Op.KvAppend(), vCache, vv, pos);
            b.updateState(kCache, kNew);
            b.updateState(vCache, vNew);
            Value att = b.apply(n + "attn", new Op.Attention(c.numHeads(), c.numKvHeads(), c.headDim(), 1.0 / Math.sqrt(c.headDim())), q, kNew, vNew, pos);
            Value out = linear(b, n + "attn_out", att, p + "self_attn.o_proj", d, c.qDim(), false);
            x = b.apply(n + "attn_residual", new Op.Add(), x, out);

            // MLP block
            h = b.apply(n + "mlp_norm", new Op.RmsNorm(c.rmsNormEps()), x, norm(b, p + "post_attention_layernorm.weight", d));
            Value gate = linear(b, n + "gate", h, p + "mlp.gate_proj", f, d, false);
            Value up = linear(b, n + "up", h, p + "mlp.up_proj", f, d, false);
            Value act = b.apply(n + "mlp_act", new Op.Mul(), b.apply(n + "gate_silu", new Op.Silu(), gate), up);
            Value down = linear(b, n + "down", act, p + "mlp.down_proj", d, f, false);
            x = b.apply(n + "mlp_residual", new Op.Add(), x, down);
        }
        x = b.apply("final_norm", new Op.RmsNorm(c.rmsNormEps()), x, norm(b, "model.norm.weight", d));
        if (!o.allLogits()) x = b.apply("last", new Op.LastRow(), x);
        Value head = c.tieEmbeddings() ? embedTable : b.param("lm_head.weight", TensorType.of(DType.F32, v, d));
        b.output(b.apply("logits", new Op.MatMul(), x, head));
        return b.build();
    }

    private static Value norm(GraphBuilder b, String name, long d) {
        return b.param(name, TensorType.of(DType.F32, d));
    }

    /** {@code x · W^T (+ bias)} with {@code W = prefix.weight [rows, cols]}. */
    private static Value linear(GraphBuilder b, String name, Value x, String prefix, long rows, long cols, boolean bias) {
        Value w = b.param(prefix + ".weight", TensorType.of(DType.F32, rows, cols));
        if (!bias) return b.apply(name, new Op.MatMul(), x, w);
        return b.apply(name, new Op.MatMul(), x, w, b.param(prefix + ".bias", TensorType.of(DType.F32, rows)));
    }
}
