package jmlc.compiler.model;

import jmlc.compiler.ir.RopeSpec;

/**
 * The hyper-parameters of a Llama-family decoder, whatever file they came from
 * (config.json keys in comments; GGUF keys are {@code <arch>.<name>}).
 *
 * @param architecture      which builder makes the graph (see {@link Architecture})
 * @param vocabSize         {@code vocab_size}
 * @param hiddenSize        {@code hidden_size} (D)
 * @param intermediateSize  {@code intermediate_size} (F, the MLP width)
 * @param numLayers         {@code num_hidden_layers}
 * @param numHeads          {@code num_attention_heads} (H)
 * @param numKvHeads        {@code num_key_value_heads}; equals H for multi-head attention
 * @param headDim           {@code head_dim}, usually D / H
 * @param rmsNormEps        {@code rms_norm_eps}
 * @param ropeTheta         {@code rope_theta}
 * @param ropeScaling       {@code rope_scaling}
 * @param ropeStyle         which values rotate together: HALF for Hugging Face checkpoints,
 *                          INTERLEAVED for llama.cpp's GGUF Llama files (their q/k rows are permuted)
 * @param maxPositions      {@code max_position_embeddings}: the context window
 * @param tieEmbeddings     {@code tie_word_embeddings}: the LM head reuses the embedding table
 * @param attentionBias     attention projections carry biases: q/k/v in Qwen2 (always); q/k/v/o in Llama
 *                          with {@code attention_bias} (see the family's builder)
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        RopeSpec.Scaling ropeScaling,
        RopeSpec.Style ropeStyle,
        int maxPositions,
        boolean tieEmbeddings,
        boolean attentionBias) {

    public ModelConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("num_key_value_heads", numKvHeads);
        positive("head_dim", headDim);
        positive("max_position_embeddings", maxPositions);
        if (numHeads % numKvHeads != 0)
            throw new IllegalArgumentException("num_attention_heads (" + numHeads + ") must be a multiple of num_key_value_heads (" + numKvHeads + ")");
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim must be even for rotary embeddings, found " + headDim);
        if (!(rmsNormEps > 0)) throw new IllegalArgumentException("rms_norm_eps must be positive, found " + rmsNormEps);
        if (!(ropeTheta > 0)) throw new IllegalArgumentException("rope_theta must be positive, found " + ropeTheta);
    }

    private static void positive(String key, long v) {
        if (v <= 0) throw new IllegalArgumentException(key + " must be positive, found " + v);
    }

    public RopeSpec rope() {
        return new RopeSpec(headDim, ropeTheta, ropeStyle, ropeScaling);
    }

    /** Width of the q projection: H · head_dim. */
    public int qDim() {
        return numHeads * headDim;
    }

    /** Width of each of the k and v projections: n_kv · head_dim. */
    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** Number of weights in matrices, embeddings and norms (embedding and LM head once each unless tied; biases, a few thousand, left out). */
    public long parameterCount() {
        long d = hiddenSize, f = intermediateSize;
        long attn = d * qDim() + 2L * d * kvDim() + (long) qDim() * d;
        long mlp = 3 * d * f;
        long perLayer = attn + mlp + 2 * d;
        long embed = (long) vocabSize * d;
        return numLayers * perLayer + embed + (tieEmbeddings ? 0 : embed) + d;
    }

    public ModelConfig withMaxPositions(int n) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                rmsNormEps, ropeTheta, ropeScaling, ropeStyle, n, tieEmbeddings, attentionBias);
    }

    public ModelConfig withAttentionBias(boolean bias) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                rmsNormEps, ropeTheta, ropeScaling, ropeStyle, maxPositions, tieEmbeddings, bias);
    }
}
