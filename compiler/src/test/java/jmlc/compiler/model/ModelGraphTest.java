package jmlc.compiler.model;

import jmlc.compiler.TinyModel;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Value;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each family's builder emits its own parameters: the biases and heads that tell the families apart. */
class ModelGraphTest {
    static final ModelGraph.Options OPTS = new ModelGraph.Options(16, DType.F16, false);

    static Set<String> biases(Graph g) {
        Set<String> s = new TreeSet<>();
        for (Value p : g.params()) if (p.name().startsWith("model.layers.0.") && p.name().endsWith(".bias")) s.add(p.name().substring("model.layers.0.".length()));
        return s;
    }

    static List<String> names(Graph g) {
        return g.params().stream().map(Value::name).toList();
    }

    @Test
    void llamaHasNoBiasesUnlessItsConfigSaysSoThenOnAllFourProjections() {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 2, 4, 2, false);
        assertEquals(Set.of(), biases(ModelGraph.build(c, OPTS)));
        assertEquals(Set.of("self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias", "self_attn.o_proj.bias"),
                biases(ModelGraph.build(c.withAttentionBias(true), OPTS)));
    }

    @Test
    void qwen2HasBiasesOnQkvOnly() {
        ModelConfig c = TinyModel.config(Architecture.QWEN2, 2, 4, 2, true);
        Graph g = ModelGraph.build(c, OPTS);
        assertEquals(Set.of("self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"), biases(g));
        assertFalse(names(g).contains("lm_head.weight"), "tied: the LM head is the embedding table");
        var e = assertThrows(IllegalArgumentException.class, () -> ModelGraph.build(c.withAttentionBias(false), OPTS));
        assertTrue(e.getMessage().contains("Qwen2"), e.getMessage());
    }

    @Test
    void mistralHasNoBiases() {
        ModelConfig c = TinyModel.config(Architecture.MISTRAL, 2, 4, 2, false);
        Graph g = ModelGraph.build(c, OPTS);
        assertEquals(Set.of(), biases(g));
        assertTrue(names(g).contains("lm_head.weight"));
        var e = assertThrows(IllegalArgumentException.class, () -> ModelGraph.build(c.withAttentionBias(true), OPTS));
        assertTrue(e.getMessage().contains("Mistral"), e.getMessage());
    }

    @Test
    void everyFamilyHasTheSameLayerSkeleton() {
        for (Architecture a : Architecture.values()) {
            Graph g = ModelGraph.build(TinyModel.config(a, 3, 4, 2, false).withAttentionBias(a == Architecture.QWEN2), OPTS);
            assertEquals(List.of("tokens", "pos"), g.inputs().stream().map(Value::name).toList(), a.name());
            assertEquals(6, g.states().size(), a + ": k and v caches of 3 layers");
            assertEquals(1, g.outputs().size(), a.name());
        }
    }

    @Test
    void aCacheLongerThanTheContextWindowIsRefused() {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 1, 4, 2, false);
        var e = assertThrows(IllegalArgumentException.class, () -> ModelGraph.build(c, new ModelGraph.Options(c.maxPositions() + 1, DType.F16, false)));
        assertTrue(e.getMessage().contains("context window (" + c.maxPositions() + ")"), e.getMessage());
    }
}
