package jmlc.engine.format.gguf;

import java.nio.file.Path;
import java.util.Map;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.tensor.FloatTensor;
import jmlc.engine.format.tensor.FloatWeights;
import jmlc.engine.format.tensor.TensorDType;

/**
 * Writes a model as llama.cpp's converter would: the metadata {@link GgufConfig} reads, tensors
 * under GGUF names, and for {@code llama} files the q/k rows permuted ({@link LlamaPermutation})
 * so that the GGUF file with INTERLEAVED rope computes what the Hugging Face weights compute with
 * HALF rope. Mistral is written as {@code llama}, as llama.cpp does.
 *
 * <p>Matrices are stored as {@code matrixType}; 1-D tensors (norms, biases) stay F32, as in
 * llama.cpp's files. A matrix whose rows are not a multiple of 32 cannot hold Q4_0/Q8_0 blocks
 * and is stored as F16 instead.
 *
 * @see Options
 */
public final class GgufModelWriter {
    private GgufModelWriter() {}

    /**
     * @param matrixType    F32, F16, BF16, Q8_0 or Q4_0
     * @param version       GGUF version, 2 or 3
     * @param extraMetadata written after the model keys: a tokenizer ({@code tokenizer.ggml.*}),
     *                      {@code general.name}, ...
     */
    public record Options(TensorDType matrixType, int version, Map<String, GgufWriter.Typed> extraMetadata) {
        public Options {
            extraMetadata = Map.copyOf(extraMetadata);
        }

        public static Options of(TensorDType matrixType) {
            return new Options(matrixType, 3, Map.of());
        }
    }

    /** {@code general.architecture} for a config: qwen2, or llama for the Llama family. */
    public static String ggufArchitecture(Architecture a) {
        return a == Architecture.QWEN2 ? "qwen2" : "llama";
    }

    public static void write(Path file, FloatWeights w, Options o) {
        ModelConfig c = w.config();
        String arch = ggufArchitecture(c.architecture());
        String p = arch + ".";
        GgufWriter g = new GgufWriter(o.version());
        g.putString("general.architecture", arch);
        g.putU32("general.file_type", fileType(o.matrixType()));
        g.putU32(p + "context_length", c.maxPositions());
        g.putU32(p + "embedding_length", c.hiddenSize());
        g.putU32(p + "feed_forward_length", c.intermediateSize());
        g.putU32(p + "block_count", c.numLayers());
        g.putU32(p + "attention.head_count", c.numHeads());
        g.putU32(p + "attention.head_count_kv", c.numKvHeads());
        if (c.headDim() * c.numHeads() != c.hiddenSize()) {
            g.putU32(p + "attention.key_length", c.headDim());
            g.putU32(p + "attention.value_length", c.headDim());
        }
        g.putF32(p + "attention.layer_norm_rms_epsilon", c.rmsNormEps());
        g.putF32(p + "rope.freq_base", c.ropeTheta());
        g.putU32(p + "rope.dimension_count", c.headDim());
        g.putU32(p + "vocab_size", c.vocabSize());
        if (c.ropeScaling() instanceof RopeSpec.Scaling.Linear l) g.putString(p + "rope.scaling.type", "linear").putF32(p + "rope.scaling.factor", l.factor());
        o.extraMetadata().forEach(g::put);

        boolean permute = !arch.equals("qwen2");
        for (FloatTensor t : w.tensors().values()) {
            String name = GgufNames.toGguf(t.name()).orElseThrow(() -> new IllegalArgumentException("no GGUF name for tensor " + t.name()));
            FloatTensor out = t;
            if (permute && (t.name().contains(".self_attn.q_proj.") || t.name().contains(".self_attn.k_proj."))) {
                int heads = t.name().contains(".q_proj.") ? c.numHeads() : c.numKvHeads();
                int rows = (int) t.dim(0), cols = t.shape().length == 1 ? 1 : (int) t.dim(1);
                out = t.withValues(LlamaPermutation.permuteRows(t.values(), rows, cols, heads));
            }
            g.add(name, out, dtypeFor(out, o.matrixType()));
        }
        if (c.ropeScaling() instanceof RopeSpec.Scaling.Llama3 s) {
            float[] divisors = Llama3RopeFactors.divisors(s, c.ropeTheta(), c.headDim());
            g.add(Llama3RopeFactors.TENSOR, new FloatTensor(Llama3RopeFactors.TENSOR, new long[] {divisors.length}, divisors), TensorDType.F32);
        }
        g.write(file);
    }

    private static TensorDType dtypeFor(FloatTensor t, TensorDType matrixType) {
        long[] s = t.shape();
        if (s.length < 2) return TensorDType.F32;
        if (s[s.length - 1] % matrixType.blockSize() != 0) return TensorDType.F16;
        return matrixType;
    }

    /** {@code general.file_type}: llama.cpp's {@code llama_ftype} for files mostly of this type. */
    private static long fileType(TensorDType t) {
        return switch (t) {
            case F32 -> 0;   // LLAMA_FTYPE_ALL_F32
            case F16 -> 1;   // LLAMA_FTYPE_MOSTLY_F16
            case Q4_0 -> 2;  // LLAMA_FTYPE_MOSTLY_Q4_0
            case Q8_0 -> 7;  // LLAMA_FTYPE_MOSTLY_Q8_0
            case BF16 -> 32; // LLAMA_FTYPE_MOSTLY_BF16
        };
    }
}
