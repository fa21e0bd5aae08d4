package jmlc.compiler.ir;

import java.util.List;

/**
 * The operations a graph is made of. Activations are 2-D {@code [seq, cols]} row-major f32 (a
 * matmul's input that every reader rounds to f16 is stored as f16, {@code HalfMatmulInputs});
 * weights are {@code [rows, cols]} with {@code cols} the input dimension (a matmul computes
 * {@code y[s, n] = Σ_k x[s, k] · w[n, k]}, Hugging Face's {@code Linear} layout).
 *
 * <p>The KV cache of a layer is a state value {@code [nKvHeads, maxCtx, headDim]}. Ops that write
 * it return the updated cache as a new value, so data dependencies order them; runtimes update
 * the state buffer in place. {@code pos} is the i32 scalar position of the step's first token;
 * the step's tokens sit at positions {@code pos .. pos+seq-1}.
 *
 * <p>Each op checks its inputs and infers its outputs' types in {@link #infer}.
 */
public sealed interface Op {

    /** Short name used in IR dumps and kernel names. */
    String name();

    /** Output types for these input types; throws {@link IllegalArgumentException} on a mismatch. */
    List<TensorType> infer(List<TensorType> in);

    // ---- model ops, as architecture builders emit them ----

    /** {@code (table[V, D] any dtype, tokens i32[seq]) -> f32[seq, D]}: rows of the table. */
    record Embed() implements Op {
        public String name() { return "embed"; }
        public List<TensorType> infer(List<TensorType> in) {
            Check.arity(this, in, 2);
            Check.rank(this, in.get(0), 2, "table");
            Check.dtype(this, in.get(1), DType.I32, "tokens");
            return List.of(TensorType.of(DType.F32, in.get(1).shape().dim(0), in.get(0).shape().dim(1)));
        }
    }

    /** {@code (x f32[seq, K], w [N, K], bias f32[N]?) -> f32[seq, N]}; {@code w} dense. */
    record MatMul() implements Op {
        public String name() { return "matmul"; }
        public List<TensorType> infer(List<TensorType> in) {
            return Check.matmul(this, in, false);
        }
    }

    /** {@code (x[seq, D], w f32[D]) -> [seq, D]}: {@code x / sqrt(mean(x²) + eps) · w}. */
    record RmsNorm(double eps) implements Op {
        public String name() { return "rms_norm"; }
        public List<TensorType> infer(List<TensorType> in) {
            Check.arity(this, in, 2);
            Check.cols(this, in.get(0), in.get(1).shape().dim(0).size(), "x");
            return List.of(in.get(0));
        }
    }

    /** Elementwise {@code a + b}, same shapes. */
    record Add() implements Op {
        public String name() { return "add"; }
        public List<TensorType> infer(List<TensorType> in) {
            return Check.sameShape(this, in);
        }
    }

    /** Elementwise {@code a · b}, same shapes. */
    record Mul() implements Op {
        public String name() { return "mul"; }
        public List<TensorType> infer(List<TensorType> in) {
            return Check.sameShape(this, in);
        }
    }

    /** Elementwise {@code x · sigmoid(x)}. */
    record Silu() implements Op {
        public String name() { return "silu"; }
        public List<TensorType> infer(List<TensorType> in) {
            Check.arity(this, in, 1);
            return List.of(in.get(0));
        }
    }

    /** {@code x[seq, C] -> x[:, start : start+len]}. */
    record Slice(long start, long len) implements Op {
        public String name() { return "slice"; }
        public List<TensorType> infer(List<TensorType> in) {
            Check.arity(this, in, 1);
            long c = in.get(0).shape().cols();
            if (start < 0 || len <= 0 || start + len > c)
                throw new IllegalArgumentException("slice [" + start + ", " + (start + len) + ") is outside the " + c + " columns of its input");
            return List.of(TensorType.of(in.get(0).dtype(), in.get(0).shape().dim(0), Dim.of(len)));
        }
    }

    /** {@code (x f32[seq, H·hd], pos i32[]) -> f32[seq, H·hd]}: rotary embedding of each head at position {@code pos + s}. */
    record Rope(RopeSpec spec) implements Op {
        public String name() { return "rope"; }
        public List<TensorType> infer(List<TensorType> in) {
            Check.arity(this, in, 2);
            if (in.get(0).shape().cols() % spec.headDim() != 0)
                throw new IllegalArgumentException("rope: " + in.get(0).shape().cols() + " columns are not whole heads of " + spec.headDim());
            Check.dtype(this, in.get(1), DType.I32, "pos");
            return List.of(in.get(0));
        }
    }

    /** {@code (cache[nKv, ctx, hd], x f32[seq, nKv·hd], pos) -> cache'} with {@code cache'[h, pos+s, :] = x[s, h·hd : (h+1)·hd]}. */
    record KvAppend() implements Op {
        public String name() { return "kv_append"; }
        public List<TensorType> infer(List<TensorType> in) {
            Check.arity(this, in, 3);
            Shape c = in.get(0).shape();
            Check.rank(this, in.get(0), 3, "cache");
            Check.cols(this, in.get(1), c.dim(0).size() * c.dim(2).size(), "x");
            return List.of(in.get(0));
        }
    }

    /**
     * {@code (q f32[seq, H·hd], kCache[nKv, ctx, hd], vCache[nKv, ctx, hd], pos) -> out[seq, H·hd]}: causal
     * softmax attention; query {@code s} sees positions {@code 0 .. pos+s}; query head {@code h} reads
     * KV head {@code h / (H / nKv)} (grouped-query attention).
     */
    record Attention(int nHeads, int nKvHeads, int headDim, double scale, DType out) implements Op {
        public Attention {
            Check.activation("attention", out);
        }

        /** Attention writing f32. */
        public Attention(int nHeads, int nKvHeads, int headDim, double scale) {
            this(nHeads, nKvHeads, headDim, scale, DType.F32);
        }

        public String name() { return "attention"; }

        /** The same attention writing {@code dtype} ({@code HalfMatmulInputs}). */
        public Attention writing(DType dtype) {
            return new Attention(nHeads, nKvHeads, headDim, scale, dtype);
        }

        public List<TensorType> infer(List<TensorType> in) {
            Check.arity(this, in, 4);
            if (nHeads % nKvHeads != 0) throw new IllegalArgumentException("attention: " + nHeads + " heads are not a multiple of " + nKvHeads + " KV heads");
            Check.cols(this, in.get(0), (long) nHeads * headDim, "q");
            return List.of(new TensorType(out, in.get(0).shape()));
        }
    }

    /** {@code x[seq, C] -> x[seq-1 : seq, C]}: keeps the last position's row (logits of the next token). */
    record LastRow() implements Op {
        public String name() { return "last_row"; }
        public List<TensorType> infer(List<TensorType> in) {
            Check.arity(this, in, 1);
            return List.of(TensorType.of(in.get(0).dtype(), Dim.of(1), in.get(0).shape().dim(1)));
        }
    }

    // ---- ops introduced by passes ----

    /** {@code w q[N, K] -> f32[N, K]}: inserted when weights are quantized; fused away before code generation. */
    record Dequantize() implements Op {
        public String name() { return "dequantize"; }
        public List<TensorType> infer(List<TensorType> in) {
            Check.arity(this, in, 1);
            if (!in.get(0).dtype().isQuantized()) throw new IllegalArgumentException("dequantize: input is " + in.get(0) + ", not quantized");
            return List.of(new TensorType(DType.F32, in.get(0).shape()));
        }
    }

    /** {@code (x f32[seq, K], w q[N, K], bias f32[N]?) -> f32[seq, N]}: matmul dequantizing {@code w} on the fly. */
    record QMatMul() implements Op {
        public String name() { return "qmatmul"; }
        public List<TensorType> infer(List<TensorType> in) {
            return Check.matmul(this, in, true);
        }
    }

    /** What a fused matmul does to its input row before the product. */
    sealed interface Prologue {
        /** x as it is. */
        record None() implements Prologue {}

        /** {@code rms_norm(x, g)}, with the norm weight g as the input after x. */
        record RmsNorm(double eps) implements Prologue {}

        /** {@code silu(x[:, :K]) · x[:, K:]}: x has 2K columns (gate and up halves). */
        record SiluMul() implements Prologue {}
    }

    /**
     * A matmul with the work around it fused in: {@code y = prologue(x) · w^T (+ bias) (+ residual)}.
     * Inputs in order: {@code x, [norm weight g (RmsNorm prologue)], w, [bias], [residual]};
     * {@code w} is quantized or dense. The GEMV stages the transformed row once in fast memory and
     * adds the residual as it writes, so the norm, the activation and the residual add cost no
     * kernels and no memory round trips of their own. With {@code siluMulPairs} the output has
     * half the columns: {@code out[s, i] = silu(y[s, 2i]) · y[s, 2i+1]} (gate and up rows of the
     * weight interleaved), so the MLP activation is computed once, where y is made. The output is
     * stored as {@code out}: f32, or f16 where every reader rounds it to f16 anyway ({@code HalfMatmulInputs}).
     */
    record FusedMatMul(Prologue prologue, boolean bias, boolean residual, boolean siluMulPairs, DType out) implements Op {
        public FusedMatMul {
            Check.activation("matmul_fused", out);
        }

        public FusedMatMul(Prologue prologue, boolean bias, boolean residual) {
            this(prologue, bias, residual, false, DType.F32);
        }

        public String name() { return "matmul_fused"; }

        public int weightIndex() {
            return prologue instanceof Prologue.RmsNorm ? 2 : 1;
        }

        public int biasIndex() {
            return bias ? weightIndex() + 1 : -1;
        }

        public int residualIndex() {
            return residual ? weightIndex() + (bias ? 2 : 1) : -1;
        }

        public List<TensorType> infer(List<TensorType> in) {
            int n = weightIndex() + 1 + (bias ? 1 : 0) + (residual ? 1 : 0);
            Check.arity(this, in, n);
            TensorType x = in.get(0), w = in.get(weightIndex());
            Check.rank(this, w, 2, "weight");
            long rows = w.shape().dim(0).size(), k = w.shape().dim(1).size();
            Check.cols(this, x, prologue instanceof Prologue.SiluMul ? 2 * k : k, "x");
            if (prologue instanceof Prologue.RmsNorm && (in.get(1).shape().rank() != 1 || in.get(1).shape().dim(0).size() != k))
                throw new IllegalArgumentException(name() + ": norm weight must be [" + k + "], found " + in.get(1));
            if (bias && (in.get(biasIndex()).shape().rank() != 1 || in.get(biasIndex()).shape().dim(0).size() != rows))
                throw new IllegalArgumentException(name() + ": bias must be [" + rows + "], found " + in.get(biasIndex()));
            if (siluMulPairs && (rows % 2 != 0 || residual))
                throw new IllegalArgumentException(name() + ": a silu·mul epilogue needs an even row count and no residual");
            TensorType y = TensorType.of(out, x.shape().dim(0), Dim.of(siluMulPairs ? rows / 2 : rows));
            if (residual && !in.get(residualIndex()).shape().equals(y.shape()))
                throw new IllegalArgumentException(name() + ": residual must be " + y.shape() + ", found " + in.get(residualIndex()));
            return List.of(y);
        }
    }

    /** {@code (a, b, w) -> (a + b, rms_norm(a + b, w))}: residual add fused with the next norm. */
    record AddRmsNorm(double eps) implements Op {
        public String name() { return "add_rms_norm"; }
        public List<TensorType> infer(List<TensorType> in) {
            Check.arity(this, in, 3);
            Check.sameShape(this, in.subList(0, 2));
            Check.cols(this, in.get(0), in.get(2).shape().dim(0).size(), "a");
            return List.of(in.get(0), in.get(0));
        }
    }

    /** {@code x f32[seq, 2F] -> f32[seq, F]}: {@code silu(x[:, :F]) · x[:, F:]} (gate and up projections fused). */
    record SiluMul() implements Op {
        public String name() { return "silu_mul"; }
        public List<TensorType> infer(List<TensorType> in) {
            Check.arity(this, in, 1);
            long c = in.get(0).shape().cols();
            if (c % 2 != 0) throw new IllegalArgumentException("silu_mul: " + c + " columns do not split into gate and up halves");
            return List.of(TensorType.of(DType.F32, in.get(0).shape().dim(0), Dim.of(c / 2)));
        }
    }

    /**
     * {@code (qkv f32[seq, (H + 2·nKv)·hd], kCache, vCache, pos) -> (q f32[seq, H·hd], kCache', vCache')}:
     * rotary embedding of q and k fused with appending k and v to the cache.
     */
    record RopeKvAppend(RopeSpec spec, int nHeads, int nKvHeads) implements Op {
        public String name() { return "rope_kv_append"; }
        public List<TensorType> infer(List<TensorType> in) {
            Check.arity(this, in, 4);
            int hd = spec.headDim();
            Check.cols(this, in.get(0), (long) (nHeads + 2 * nKvHeads) * hd, "qkv");
            return List.of(TensorType.of(DType.F32, in.get(0).shape().dim(0), Dim.of((long) nHeads * hd)), in.get(1), in.get(2));
        }
    }
}
