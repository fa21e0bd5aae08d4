package jmlc.engine.format.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorEncoding;
import jmlc.engine.format.tensor.TensorView;
import org.junit.jupiter.api.Test;

/** Metadata as llama.cpp's converter writes it for real models (values of TinyLlama 1.1B and Qwen2 0.5B). */
class GgufConfigTest {
    private static final Path FILE = Path.of("model.gguf");

    private static TensorView tensor(String name, long[] shape, float[] values) {
        return new TensorView(name, TensorDType.F32, shape, MemorySegment.ofArray(TensorEncoding.toBytes(values, TensorDType.F32)), FILE);
    }

    private static Map<String, Object> tinyLlama() {
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("general.architecture", "llama");
        md.put("general.name", "TinyLlama");
        md.put("llama.context_length", 2048L);
        md.put("llama.embedding_length", 2048L);
        md.put("llama.block_count", 22L);
        md.put("llama.feed_forward_length", 5632L);
        md.put("llama.rope.dimension_count", 64L);
        md.put("llama.attention.head_count", 32L);
        md.put("llama.attention.head_count_kv", 4L);
        md.put("llama.attention.layer_norm_rms_epsilon", 1e-5);
        md.put("llama.rope.freq_base", 10000.0);
        md.put("general.file_type", 2L);
        md.put("tokenizer.ggml.model", "llama");
        md.put("tokenizer.ggml.tokens", Collections.nCopies(32000, "tok"));
        return md;
    }

    private static Map<String, TensorView> untied() {
        return Map.of("output.weight", tensor("output.weight", new long[] {1}, new float[1]));
    }

    @Test
    void tinyLlamaIsInterleavedWithVocabFromTheTokenList() {
        ModelConfig c = GgufConfig.read(FILE, tinyLlama(), untied());
        assertEquals(new ModelConfig(Architecture.LLAMA, 32000, 2048, 5632, 22, 32, 4, 64, 1e-5, 10000, new RopeSpec.Scaling.None(),
                RopeSpec.Style.INTERLEAVED, 2048, false, false), c);
    }

    @Test
    void qwen2IsHalfAndTiedWhenOutputIsAbsent() {
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("general.architecture", "qwen2");
        md.put("qwen2.block_count", 24L);
        md.put("qwen2.context_length", 32768L);
        md.put("qwen2.embedding_length", 896L);
        md.put("qwen2.feed_forward_length", 4864L);
        md.put("qwen2.attention.head_count", 14L);
        md.put("qwen2.attention.head_count_kv", 2L);
        md.put("qwen2.rope.freq_base", 1000000.0);
        md.put("qwen2.attention.layer_norm_rms_epsilon", 1e-6);
        Map<String, TensorView> t = Map.of("token_embd.weight", tensor("token_embd.weight", new long[] {151936, 0}, new float[0]));
        assertEquals(new ModelConfig(Architecture.QWEN2, 151936, 896, 4864, 24, 14, 2, 64, 1e-6, 1e6, new RopeSpec.Scaling.None(),
                RopeSpec.Style.HALF, 32768, true, true), GgufConfig.read(FILE, md, t));
    }

    @Test
    void linearScalingKeys() {
        Map<String, Object> md = tinyLlama();
        md.put("llama.rope.scaling.type", "linear");
        md.put("llama.rope.scaling.factor", 4.0);
        assertEquals(new RopeSpec.Scaling.Linear(4), GgufConfig.read(FILE, md, untied()).ropeScaling());
        md.remove("llama.rope.scaling.type");
        md.remove("llama.rope.scaling.factor");
        md.put("llama.rope.scale_linear", 2.0); // files from before rope.scaling.*
        assertEquals(new RopeSpec.Scaling.Linear(2), GgufConfig.read(FILE, md, untied()).ropeScaling());
    }

    @Test
    void llama3ScalingFromTheRopeFreqsTensor() {
        Map<String, Object> md = tinyLlama();
        md.put("llama.rope.freq_base", 500000.0);
        md.put("llama.rope.dimension_count", 128L);
        md.put("llama.attention.head_count", 16L);
        RopeSpec.Scaling.Llama3 want = new RopeSpec.Scaling.Llama3(32, 1, 4, 8192);
        float[] divisors = Llama3RopeFactors.divisors(want, 500000, 128);
        Map<String, TensorView> t = new HashMap<>(untied());
        t.put(Llama3RopeFactors.TENSOR, tensor(Llama3RopeFactors.TENSOR, new long[] {64}, divisors));
        assertEquals(want, GgufConfig.read(FILE, md, t).ropeScaling());
    }

    private static void expect(Map<String, Object> md, Map<String, TensorView> t, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufConfig.read(FILE, md, t));
        assertTrue(e.getMessage().contains("model.gguf"), e.getMessage());
        for (String s : fragments) assertTrue(e.getMessage().contains(s), "'" + s + "' in: " + e.getMessage());
    }

    @Test
    void errorsNameTheKey() {
        Map<String, Object> md = tinyLlama();
        md.remove("llama.block_count");
        expect(md, untied(), "missing key 'llama.block_count'", "positive integer");

        md = tinyLlama();
        md.put("llama.attention.head_count_kv", java.util.List.of(4L, 4L));
        expect(md, untied(), "key 'llama.attention.head_count_kv'", "an array of 2 values");

        md = tinyLlama();
        md.put("llama.attention.layer_norm_rms_epsilon", "tiny");
        expect(md, untied(), "key 'llama.attention.layer_norm_rms_epsilon'", "positive number", "\"tiny\"");

        md = tinyLlama();
        md.put("general.architecture", "gpt2");
        expect(md, untied(), "unsupported architecture 'gpt2'", "gguf 'qwen2'", "LlamaForCausalLM");

        md = tinyLlama();
        md.put("llama.rope.dimension_count", 32L);
        expect(md, untied(), "key 'llama.rope.dimension_count'", "expected 64", "found 32");

        md = tinyLlama();
        md.put("llama.rope.scaling.type", "yarn");
        expect(md, untied(), "llama.rope.scaling.type", "\"yarn\"");

        md = tinyLlama();
        md.put("llama.attention.head_count_kv", 5L);
        expect(md, untied(), "inconsistent metadata", "multiple of num_key_value_heads");

        md = tinyLlama();
        Map<String, TensorView> t = new HashMap<>(untied());
        t.put(Llama3RopeFactors.TENSOR, tensor(Llama3RopeFactors.TENSOR, new long[] {5}, new float[5]));
        expect(md, t, Llama3RopeFactors.TENSOR, "5 values", "expected head_dim/2 = 32");
    }
}
