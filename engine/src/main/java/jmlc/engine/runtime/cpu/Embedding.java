package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.Op;

/** {@link Op.Embed}: {@code out[s, :] = table[tokens[s], :]}, dequantizing rows of any weight kind. */
public final class Embedding {
    private Embedding() {}

    public static void lookup(Weight table, int[] tokens, int seq, float[] out) {
        int d = table.cols();
        if (seq < 1 || tokens.length < seq) throw new IllegalArgumentException("embedding: " + seq + " tokens asked, " + tokens.length + " given");
        Elementwise.check("embedding", (long) seq * d, out);
        for (int s = 0; s < seq; s++)
            if (tokens[s] < 0 || tokens[s] >= table.rows())
                throw new IllegalArgumentException("embedding: token " + tokens[s] + " at position " + s + " is outside the vocabulary of " + table.rows());
        if (!Simd.ENABLED) {
            Reference.embedding(table, tokens, seq, out);
            return;
        }
        for (int s = 0; s < seq; s++) Dequant.decodeRow(table, tokens[s], out, s * d);
    }
}
