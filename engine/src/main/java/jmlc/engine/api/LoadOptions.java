package jmlc.engine.api;

import jmlc.compiler.ir.DType;
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
 * @param kvCache        the KV cache's element type: f32, f16, or i8 (bytes and a scale per 32, half an f16
 *                       cache's memory: {@code Int8KvCache}); null takes the quantization's (f16, or f32 for q*f32 modes)
 */
public record LoadOptions(String device, QuantMode quant, int maxContext, Set<String> disabledPasses, String chatTemplate, boolean allLogits,
                          RuntimeSettings runtime, DType kvCache) {

    public LoadOptions {
        disabledPasses = Set.copyOf(disabledPasses);
        if (runtime == null) throw new IllegalArgumentException("runtime settings must not be null (RuntimeSettings.defaults())");
        if (maxContext < 0) throw new IllegalArgumentException("max context must be >= 0, found " + maxContext);
        if (kvCache != null && kvCache != DType.F32 && kvCache != DType.F16 && kvCache != DType.I8)
            throw new IllegalArgumentException("the KV cache is f32, f16 or i8, not " + kvCache);
    }

    public static LoadOptions defaults() {
        return new LoadOptions("auto", null, 0, Set.of(), null, false, RuntimeSettings.defaults(), null);
    }

    public LoadOptions device(String d) {
        return new LoadOptions(d, quant, maxContext, disabledPasses, chatTemplate, allLogits, runtime, kvCache);
    }

    public LoadOptions quant(QuantMode q) {
        return new LoadOptions(device, q, maxContext, disabledPasses, chatTemplate, allLogits, runtime, kvCache);
    }

    public LoadOptions quant(String q) {
        return quant(q == null ? null : QuantMode.parse(q));
    }

    public LoadOptions maxContext(int n) {
        return new LoadOptions(device, quant, n, disabledPasses, chatTemplate, allLogits, runtime, kvCache);
    }

    public LoadOptions disabledPasses(Set<String> p) {
        return new LoadOptions(device, quant, maxContext, p, chatTemplate, allLogits, runtime, kvCache);
    }

    public LoadOptions chatTemplate(String t) {
        return new LoadOptions(device, quant, maxContext, disabledPasses, t, allLogits, runtime, kvCache);
    }

    public LoadOptions runtime(RuntimeSettings r) {
        return new LoadOptions(device, quant, maxContext, disabledPasses, chatTemplate, allLogits, r, kvCache);
    }

    /** Greedy GPU steps queued ahead of the host, 0 to 8 (default 2). */
    public LoadOptions decodeAhead(int steps) {
        return runtime(runtime.decodeAhead(steps));
    }

    public LoadOptions kvCache(DType t) {
        return new LoadOptions(device, quant, maxContext, disabledPasses, chatTemplate, allLogits, runtime, t);
    }

    /** {@code f32}, {@code f16} or {@code i8}; null for the quantization's default. */
    public LoadOptions kvCache(String t) {
        return kvCache(parseKvCache(t));
    }

    /** The KV cache type a user names: f32, f16 or i8 (int8 also taken); null for null. */
    public static DType parseKvCache(String t) {
        if (t == null) return null;
        return switch (t.toLowerCase(java.util.Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "f16" -> DType.F16;
            case "i8", "int8" -> DType.I8;
            default -> throw new IllegalArgumentException("unknown KV cache type '" + t + "': expected f32, f16 or i8");
        };
    }

    /** The KV cache type for weights quantized as {@code q}: this one's, or the quantization's default. */
    public DType kvCacheFor(QuantMode q) {
        return q.kvCacheType(kvCache);
    }

    public LoadOptions allLogits(boolean a) {
        return new LoadOptions(device, quant, maxContext, disabledPasses, chatTemplate, a, runtime, kvCache);
    }
}
