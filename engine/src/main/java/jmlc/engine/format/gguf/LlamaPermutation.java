package jmlc.engine.format.gguf;

/**
 * The row permutation llama.cpp's converter applies to the q and k projections of Hugging Face
 * Llama checkpoints ({@code LlamaModel.permute} in convert_hf_to_gguf.py):
 * <pre>
 * w.reshape(n_head, 2, rows / n_head / 2, cols).swapaxes(1, 2).reshape(rows, cols)
 * </pre>
 * with {@code n_head = num_attention_heads} for q and {@code num_key_value_heads} for k. Within
 * each head of {@code hd} rows, new row {@code 2i + j} is old row {@code j·hd/2 + i}: the rows
 * that Hugging Face's HALF rope rotates together ({@code i}, {@code i + hd/2}) become neighbours
 * ({@code 2i}, {@code 2i+1}), which ggml's NORM rope rotates together. A bias (cols = 1) is
 * permuted the same way.
 */
public final class LlamaPermutation {
    private LlamaPermutation() {}

    /** Rows of {@code w} ({@code rows × cols}, row-major) permuted for {@code nHeads} heads. */
    public static float[] permuteRows(float[] w, int rows, int cols, int nHeads) {
        if ((long) rows * cols != w.length) throw new IllegalArgumentException(rows + " x " + cols + " does not match " + w.length + " values");
        if (rows % (2 * nHeads) != 0) throw new IllegalArgumentException(rows + " rows do not split into " + nHeads + " heads of even size");
        int hd = rows / nHeads, half = hd / 2;
        float[] out = new float[w.length];
        for (int h = 0; h < nHeads; h++)
            for (int i = 0; i < half; i++)
                for (int j = 0; j < 2; j++)
                    System.arraycopy(w, (h * hd + j * half + i) * cols, out, (h * hd + 2 * i + j) * cols, cols);
        return out;
    }
}
