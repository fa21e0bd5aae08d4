package jmlc.engine.api;

import jmlc.compiler.quant.QuantMode;
import jmlc.engine.runtime.RuntimeSettings;

import java.util.Set;

/**
 * How to load a model.
 *
 * @param device         {@code auto}, {@code cpu}, {@code cpu:ref}, {@code cuda:0} ...
 * @param quant          weight quantization; null picks the source's natural one (q4f16_1 for
 *                       Hugging Face and synthetic models, the stored format for GGUF files)
 * @param maxContext     KV cache length; 0 means the model's window, at most 4096
 * @param disabledPasses compiler passes to switch off (to see what each buys)
 * @param chatTemplate   llama2, llama3, chatml or mistral; null detects it from the model
 * @param allLogits      return logits for every prompt position (for {@code jmlc logits})
 * @param runtime        how the device runs the model (decode-ahead, programmatic launch); the
 *                       environment variables {@code JMLC_DECODE_AHEAD} and {@code JMLC_PDL} override it
 */
public record LoadOptions(String device, QuantMode quant, int maxContext, Set<String> disabledPasses, String chatTemplate, boolean allLogits,
                          RuntimeSettings runtime) {

    public LoadOptions {
        disabledPasses = Set.copyOf(disabledPasses);
        if (runtime == null) throw new IllegalArgumentException("runtime settings must not be null (RuntimeSettings.defaults())");
        if (maxContext < 0) throw new IllegalArgumentException("max context must be >= 0, found " + maxContext);
    }

    public static LoadOptions defaults() {
        return new LoadOptions("auto", null, 0, Set.of(), null, false, RuntimeSettings.defaults());
    }

    public LoadOptions device(String d) {
        return new LoadOptions(d, quant, maxContext, disabledPasses, chatTemplate, allLogits, runtime);
    }

    public LoadOptions quant(QuantMode q) {
        return new LoadOptions(device, q, maxContext, disabledPasses, chatTemplate, allLogits, runtime);
    }

    public LoadOptions quant(String q) {
        return quant(q == null ? null : QuantMode.parse(q));
    }

    public LoadOptions maxContext(int n) {
        return new LoadOptions(device, quant, n, disabledPasses, chatTemplate, allLogits, runtime);
    }

    public LoadOptions disabledPasses(Set<String> p) {
        return new LoadOptions(device, quant, maxContext, p, chatTemplate, allLogits, runtime);
    }

    public LoadOptions chatTemplate(String t) {
        return new LoadOptions(device, quant, maxContext, disabledPasses, t, allLogits, runtime);
    }

    public LoadOptions runtime(RuntimeSettings r) {
        return new LoadOptions(device, quant, maxContext, disabledPasses, chatTemplate, allLogits, r);
    }

    /** Greedy GPU steps queued ahead of the host, 0 to 8 (default 2). */
    public LoadOptions decodeAhead(int steps) {
        return runtime(runtime.decodeAhead(steps));
    }

    public LoadOptions allLogits(boolean a) {
        return new LoadOptions(device, quant, maxContext, disabledPasses, chatTemplate, a, runtime);
    }
}
