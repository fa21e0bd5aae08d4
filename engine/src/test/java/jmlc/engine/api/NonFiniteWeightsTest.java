package jmlc.engine.api;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.quant.QuantMode;
import jmlc.engine.format.TinyModels;
import jmlc.engine.format.tensor.FloatWeights;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.sampling.SamplingParams;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * NaN or infinite weights make non-finite logits; generation then stops at the first step and
 * names the first tensor (in the model's layer order) holding such a value, instead of producing
 * tokens from garbage without a word (issue 14).
 */
class NonFiniteWeightsTest {
    @TempDir
    Path dir;

    /**
     * @param when "load" where preparing the weights reads every value (quantization, fusing q/k/v:
     *             a NaN would have become a silent 0 or spread), "step" where the weight is used as
     *             stored and the first step's logits show it
     */
    @ParameterizedTest
    @CsvSource({"model.layers.1.mlp.up_proj.weight, NaN, q4f16_1, layer 1, load",
                "model.embed_tokens.weight, NaN, q8f16, the embedding, load",
                "model.layers.0.self_attn.q_proj.weight, Infinity, q0f32, layer 0, load",
                "model.layers.1.mlp.down_proj.weight, NaN, q0f32, layer 1, step",
                "model.norm.weight, -Infinity, q0f32, the final norm, step"})
    void theTensorIsNamed(String tensor, float value, String quant, String where, String when) throws IOException {
        FloatWeights w = TinyModels.random(TinyModels.config(Architecture.LLAMA), 5);
        w.tensor(tensor).values()[37] = value;
        HostileModelDirs.withSilentTokenizer(dir, 0, w);
        LoadOptions opts = LoadOptions.defaults().device("cpu").quant(QuantMode.parse(quant)).chatTemplate("llama2");
        ModelFormatException e;
        if (when.equals("step")) {
            try (ChatModule cm = ChatModule.load(dir.toString(), opts)) {
                GenerationConfig cfg = new GenerationConfig(4, SamplingParams.GREEDY, Set.of(), true);
                e = assertThrows(ModelFormatException.class, () -> cm.generateTokens(new int[] {1, 2, 3}, cfg));
                assertTrue(e.getMessage().contains("logits are not finite"), e.getMessage());
            }
        } else {
            e = assertThrows(ModelFormatException.class, () -> ChatModule.load(dir.toString(), opts).close());
        }
        for (String s : new String[] {tensor, Float.toString(value), "element 37", where, dir.toString()})
            assertTrue(e.getMessage().contains(s), "'" + s + "' in: " + e.getMessage());
    }
}
