package jmlc.engine.runtime;

import jmlc.engine.sampling.Sampler;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;

/**
 * A compiled model loaded onto a device, with its KV cache: runs steps of one sequence.
 * Positions are the caller's: a step writes cache positions {@code pos .. pos + tokens - 1}, and
 * starting again at position 0 begins a new sequence.
 */
public interface ModelRunner extends AutoCloseable {

    DeviceInfo device();

    /** The compiled model this runner runs. */
    CompiledModel model();

    /** KV cache length: the most positions one sequence can reach. */
    default int maxContext() {
        return model().maxContext();
    }

    /** The most tokens one {@link #forward} call takes (longer prompts are fed in chunks). */
    default int maxStepTokens() {
        return model().maxStepTokens();
    }

    /**
     * Runs the model over {@code tokens} at positions {@code pos ..} and returns logits:
     * {@code [1, vocab]} for the last token, or {@code [tokens, vocab]} for a model compiled with all logits.
     */
    float[] forward(int[] tokens, int pos);

    /**
     * Runs a step whose logits nobody reads: a long prompt's chunks before its last. Runtimes that
     * queue work on a device override this to queue it and return, so the host launches the next
     * chunk while the device runs this one (no logits copied back, no wait); this default runs
     * {@link #forward} and drops its logits.
     */
    default void prefill(int[] tokens, int pos) {
        forward(tokens, pos);
    }

    /**
     * Runs one step and picks the token after its last one. Runtimes that sample on the device
     * override this so only a token id crosses to the host; this default samples the last row of
     * the returned logits on the host (a model compiled with all logits returns a row per token).
     */
    default int forwardAndSample(int[] tokens, int pos, Sampler sampler, int[] context, int contextLength) {
        float[] logits = forward(tokens, pos);
        int vocab = model().config().vocabSize();
        if (logits.length > vocab) logits = java.util.Arrays.copyOfRange(logits, logits.length - vocab, logits.length);
        return sampler.sample(logits, context, contextLength);
    }

    /**
     * A hint from the generation loop: no decode step of this request goes past position
     * {@code lastPos} ({@code -1}: no promise). Runtimes that queue greedy steps ahead of the host
     * stop there; others ignore it.
     */
    default void decodeLimit(int lastPos) {
    }

    /** Bytes of all weights in their stored formats (for % of roofline). */
    default long weightBytes() {
        return ModelWeights.bytesOf(model().graph());
    }

    @Override
    void close();
}
