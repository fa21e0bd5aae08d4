package jmlc.engine.runtime.cpu;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link Embedding} against {@link Reference#embedding} for every weight kind: the same dequantized values (1e-7). */
class EmbeddingTest {

    @Test
    void everyKind() {
        for (String kind : MatMulTest.kinds())
            for (int cols : new int[] {64, 576, 2048}) {
                SplittableRandom r = Check.random("embed" + kind + cols);
                int vocab = 37;
                Weight table = MatMulTest.weight(kind, Check.gaussian(r, vocab * cols, 0.1), vocab, cols);
                for (int seq : new int[] {1, 3, 17}) {
                    int[] tokens = new int[seq];
                    for (int s = 0; s < seq; s++) tokens[s] = r.nextInt(vocab);
                    float[] ref = new float[seq * cols], out = Check.poisoned(seq * cols);
                    Reference.embedding(table, tokens, seq, ref);
                    Embedding.lookup(table, tokens, seq, out);
                    Check.close("embedding " + kind + " cols " + cols + " seq " + seq, out, ref, seq * cols, 1e-7);
                }
            }
    }

    @Test
    void tokenOutsideTheVocabularyIsAnError() {
        Weight table = MatMulTest.weight("q4f16_1", new float[4 * 32], 4, 32);
        assertThrows(IllegalArgumentException.class, () -> Embedding.lookup(table, new int[] {4}, 1, new float[32]));
        assertThrows(IllegalArgumentException.class, () -> Embedding.lookup(table, new int[] {-1}, 1, new float[32]));
    }
}
