package jmlc.compiler.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Declaring and replacing params costs the same whatever the graph holds already: a model file
 * claiming thousands of layers made the duplicate-name scan quadratic (issue 14).
 */
class GraphBuilderParamsTest {
    private static final TensorType T = TensorType.of(DType.F32, 4);
    private static final int MANY = 200_000;

    @Test
    void manyParamsAreDeclaredAndReplacedInLinearTime() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            GraphBuilder b = new GraphBuilder("g");
            Value[] ps = new Value[MANY];
            for (int i = 0; i < MANY; i++) ps[i] = b.param("model.layers." + i + ".weight", T);
            for (int i = MANY - 1; i >= 0; i--) b.replaceParam(ps[i], TensorType.of(DType.F16, 4));
        });
    }

    @Test
    void aDuplicateNameIsStillRefused() {
        GraphBuilder b = new GraphBuilder("g");
        Value first = b.param("w", T);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.param("w", T));
        assertTrue(e.getMessage().contains("already has a param named w"), e.getMessage());
        Value replaced = b.replaceParam(first, TensorType.of(DType.F16, 4));
        assertEquals("w", replaced.name());
        assertThrows(IllegalArgumentException.class, () -> b.param("w", T), "the replacement keeps the name taken");
        assertThrows(IllegalArgumentException.class, () -> b.replaceParam(first, T), "the replaced value is no param any more");
    }
}
