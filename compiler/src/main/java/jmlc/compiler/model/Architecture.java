package jmlc.compiler.model;

import java.util.List;
import java.util.Optional;

/**
 * The model families jmlc builds graphs for: an explicit list, matched by the names checkpoints
 * use ({@code architectures} in config.json, {@code general.architecture} in GGUF).
 * Each family has its graph builder ({@link ModelGraph#build} picks it): {@link LlamaGraph},
 * {@link MistralGraph}, {@link Qwen2Graph}.
 */
public enum Architecture {
    LLAMA("llama", List.of("LlamaForCausalLM"), false),
    MISTRAL("mistral", List.of("MistralForCausalLM"), false),
    QWEN2("qwen2", List.of("Qwen2ForCausalLM"), true);

    private final String ggufName;
    private final List<String> hfNames;
    private final boolean attentionBias;

    Architecture(String ggufName, List<String> hfNames, boolean attentionBias) {
        this.ggufName = ggufName;
        this.hfNames = hfNames;
        this.attentionBias = attentionBias;
    }

    /** {@code general.architecture} in GGUF files. */
    public String ggufName() {
        return ggufName;
    }

    /** {@code architectures[0]} in config.json. */
    public List<String> hfNames() {
        return hfNames;
    }

    /**
     * Whether the family's attention projections have biases when the checkpoint does not say:
     * Qwen2 always has q/k/v biases; Llama has them (on o too) only with {@code attention_bias: true}.
     */
    public boolean attentionBias() {
        return attentionBias;
    }

    public static Optional<Architecture> fromHf(String name) {
        for (Architecture a : values()) if (a.hfNames.contains(name)) return Optional.of(a);
        return Optional.empty();
    }

    public static Optional<Architecture> fromGguf(String name) {
        for (Architecture a : values()) if (a.ggufName.equals(name)) return Optional.of(a);
        return Optional.empty();
    }

    /** The names users can write, for error messages. */
    public static String supported() {
        StringBuilder sb = new StringBuilder();
        for (Architecture a : values()) sb.append(sb.isEmpty() ? "" : ", ").append(String.join("/", a.hfNames)).append(" (gguf '").append(a.ggufName).append("')");
        return sb.toString();
    }
}
