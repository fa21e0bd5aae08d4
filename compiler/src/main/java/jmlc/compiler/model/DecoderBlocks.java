package jmlc.compiler.model;

import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Dim;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.GraphBuilder;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.TensorType;
import jmlc.compiler.ir.Value;

/**
 * The pieces family builders assemble a pre-norm decoder from, one op per operation as the model
 * computes it (passes fuse and quantize later). Param names are Hugging Face's
 * ({@code model.layers.N.self_attn.q_proj.weight}, ...); loaders map other formats' names onto them.
 *
 * <pre>
 * x = embed(tokens)                                              // (seq, D)
 * attention(l, x):  h = rms_norm(x) ; q,k,v = h·Wq, h·Wk, h·Wv  // (seq, H·hd), (seq, nKv·hd) ×2
 *                   q,k = rope(q), rope(k) ; append k, v to the layer's cache at pos
 *                   x + attention(q, cache)·Wo
 * swiGlu(l, x):     h = rms_norm(x) ; x + (silu(h·Wgate) · h·Wup)·Wdown
 * logits(x):        rms_norm(x)·Wlm_head                         // (seq or 1, V); Wlm_head = embedding when tied
 * </pre>
 */
final class DecoderBlocks {
    /** Which attention projections carry a bias ({@code .bias} tensors of their rows). */
    record AttentionBiases(boolean qkv, boolean o) {
        static final AttentionBiases NONE = new AttentionBiases(false, false);
    }

    private final ModelConfig c;
    private final ModelGraph.Options o;
    private final GraphBuilder b;
    private final Value tokens, pos;
    private Value embedTable;

    DecoderBlocks(ModelConfig c, ModelGraph.Options o) {
        this.c = c;
        this.o = o;
        this.b = new GraphBuilder(c.architecture().ggufName());
        this.tokens = b.input("tokens", TensorType.of(DType.I32, Dim.SEQ));
        this.pos = b.input("pos", TensorType.scalar(DType.I32));
    }

    /** Input {@code tokens [seq]} looked up in {@code model.embed_tokens.weight [V, D]}. */
    Value embed() {
        embedTable = b.param("model.embed_tokens.weight", TensorType.of(DType.F32, c.vocabSize(), c.hiddenSize()));
        return b.apply("embed", new Op.Embed(), embedTable, tokens);
    }

    /** Layer {@code l}'s self-attention block with its residual; the KV cache is the layer's state. */
    Value attention(int l, Value x, AttentionBiases biases) {
        String p = "model.layers." + l + ".", n = "layers." + l + ".";
        int d = c.hiddenSize();
        Value kCache = b.state("k_cache." + l, TensorType.of(o.kvDtype(), c.numKvHeads(), o.maxContext(), c.headDim()));
        Value vCache = b.state("v_cache." + l, TensorType.of(o.kvDtype(), c.numKvHeads(), o.maxContext(), c.headDim()));

        Value h = b.apply(n + "attn_norm", new Op.RmsNorm(c.rmsNormEps()), x, norm(p + "input_layernorm.weight"));
        Value q = linear(n + "q", h, p + "self_attn.q_proj", c.qDim(), d, biases.qkv());
        Value k = linear(n + "k", h, p + "self_attn.k_proj", c.kvDim(), d, biases.qkv());
        Value v = linear(n + "v", h, p + "self_attn.v_proj", c.kvDim(), d, biases.qkv());
        q = b.apply(n + "q_rope", new Op.Rope(c.rope()), q, pos);
        k = b.apply(n + "k_rope", new Op.Rope(c.rope()), k, pos);
        Value kNew = b.apply(n + "k_cache", new Op.KvAppend(), kCache, k, pos);
        Value vNew = b.apply(n + "v_cache", new Op.KvAppend(), vCache, v, pos);
        b.updateState(kCache, kNew);
        b.updateState(vCache, vNew);
        Value att = b.apply(n + "attn", new Op.Attention(c.numHeads(), c.numKvHeads(), c.headDim(), 1.0 / Math.sqrt(c.headDim())), q, kNew, vNew, pos);
        Value out = linear(n + "attn_out", att, p + "self_attn.o_proj", d, c.qDim(), biases.o());
        return b.apply(n + "attn_residual", new Op.Add(), x, out);
    }

    /** Layer {@code l}'s gated MLP, {@code silu(gate) · up}, with its residual. */
    Value swiGlu(int l, Value x) {
        String p = "model.layers." + l + ".", n = "layers." + l + ".";
        int d = c.hiddenSize(), f = c.intermediateSize();
        Value h = b.apply(n + "mlp_norm", new Op.RmsNorm(c.rmsNormEps()), x, norm(p + "post_attention_layernorm.weight"));
        Value gate = linear(n + "gate", h, p + "mlp.gate_proj", f, d, false);
        Value up = linear(n + "up", h, p + "mlp.up_proj", f, d, false);
        Value act = b.apply(n + "mlp_act", new Op.Mul(), b.apply(n + "gate_silu", new Op.Silu(), gate), up);
        Value down = linear(n + "down", act, p + "mlp.down_proj", d, f, false);
        return b.apply(n + "mlp_residual", new Op.Add(), x, down);
    }

    /** Final norm and LM head ({@code lm_head.weight}, or the embedding table when tied); the graph's output. */
    Graph logits(Value x) {
        x = b.apply("final_norm", new Op.RmsNorm(c.rmsNormEps()), x, norm("model.norm.weight"));
        if (!o.allLogits()) x = b.apply("last", new Op.LastRow(), x);
        Value head = c.tieEmbeddings() ? embedTable : b.param("lm_head.weight", TensorType.of(DType.F32, c.vocabSize(), c.hiddenSize()));
        b.output(b.apply("logits", new Op.MatMul(), x, head));
        return b.build();
    }

    private Value norm(String name) {
        return b.param(name, TensorType.of(DType.F32, c.hiddenSize()));
    }

    /** {@code x · W^T (+ bias)} with {@code W = prefix.weight [rows, cols]}, {@code bias = prefix.bias [rows]}. */
    private Value linear(String name, Value x, String prefix, long rows, long cols, boolean bias) {
        Value w = b.param(prefix + ".weight", TensorType.of(DType.F32, rows, cols));
        if (!bias) return b.apply(name, new Op.MatMul(), x, w);
        return b.apply(name, new Op.MatMul(), x, w, b.param(prefix + ".bias", TensorType.of(DType.F32, rows)));
    }
}
