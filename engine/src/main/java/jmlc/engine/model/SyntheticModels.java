package jmlc.engine.model;

import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Models with the real shapes (from each model's published config.json) and random weights, for
 * benchmarks without downloads: {@code synthetic:llama-2-7b}. Speed does not depend on the values.
 * {@code synthetic:tiny} is a small model for demos and tests.
 */
public final class SyntheticModels {
    private SyntheticModels() {}

    public static final String PREFIX = "synthetic:";

    private static final Map<String, ModelConfig> CATALOG = new LinkedHashMap<>();

    static {
        var none = new RopeSpec.Scaling.None();
        var half = RopeSpec.Style.HALF;
        add("tiny", new ModelConfig(Architecture.LLAMA, 32000, 256, 704, 4, 8, 4, 32, 1e-5, 10000, none, half, 2048, false, false));
        // TinyLlama/TinyLlama-1.1B-Chat-v1.0
        add("tinyllama-1.1b", new ModelConfig(Architecture.LLAMA, 32000, 2048, 5632, 22, 32, 4, 64, 1e-5, 10000, none, half, 2048, false, false));
        // meta-llama/Llama-2-7b-hf, Llama-2-13b-hf
        add("llama-2-7b", new ModelConfig(Architecture.LLAMA, 32000, 4096, 11008, 32, 32, 32, 128, 1e-5, 10000, none, half, 4096, false, false));
        add("llama-2-13b", new ModelConfig(Architecture.LLAMA, 32000, 5120, 13824, 40, 40, 40, 128, 1e-5, 10000, none, half, 4096, false, false));
        // meta-llama/Meta-Llama-3-8B
        add("llama-3-8b", new ModelConfig(Architecture.LLAMA, 128256, 4096, 14336, 32, 32, 8, 128, 1e-5, 500000, none, half, 8192, false, false));
        // meta-llama/Llama-3.1-8B: llama3 rope scaling
        add("llama-3.1-8b", new ModelConfig(Architecture.LLAMA, 128256, 4096, 14336, 32, 32, 8, 128, 1e-5, 500000,
                new RopeSpec.Scaling.Llama3(8, 1, 4, 8192), half, 131072, false, false));
        // meta-llama/Meta-Llama-3-70B: rows of 8192 and 28672 (about 39 GB in q4f16_1)
        add("llama-3-70b", new ModelConfig(Architecture.LLAMA, 128256, 8192, 28672, 80, 64, 8, 128, 1e-5, 500000, none, half, 8192, false, false));
        // mistralai/Mistral-7B-v0.1
        add("mistral-7b", new ModelConfig(Architecture.MISTRAL, 32000, 4096, 14336, 32, 32, 8, 128, 1e-5, 10000, none, half, 32768, false, false));
        // Qwen/Qwen2-0.5B: q/k/v biases, tied embeddings
        add("qwen2-0.5b", new ModelConfig(Architecture.QWEN2, 151936, 896, 4864, 24, 14, 2, 64, 1e-6, 1000000, none, half, 32768, true, true));
    }

    private static void add(String name, ModelConfig c) {
        CATALOG.put(name, c);
    }

    public static Map<String, ModelConfig> catalog() {
        return java.util.Collections.unmodifiableMap(CATALOG);
    }

    /** The config of {@code synthetic:NAME} (name with or without the prefix). */
    public static Optional<ModelConfig> find(String name) {
        String n = name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
        return Optional.ofNullable(CATALOG.get(n.toLowerCase()));
    }

    public static boolean isSynthetic(String spec) {
        return spec.startsWith(PREFIX);
    }

    public static ModelConfig require(String spec) {
        return find(spec).orElseThrow(() -> new IllegalArgumentException(
                "unknown synthetic model '" + spec + "': expected one of " + String.join(", ", CATALOG.keySet().stream().map(k -> PREFIX + k).toList())));
    }
}
