package jmlc.engine.runtime;

import jmlc.engine.generate.Sampler;

/**
 * A compiled model loaded onto a device, with its KV cache: runs steps of one sequence.
 * Positions are the caller's: a step writes cache positions {@code pos .. pos + tokens - 1}, and
 * starting again at position 0 begins a new sequence.
 */
public interface ModelRunner extends AutoCloseable {

    DeviceInfo device();

    /** KV cache length: the most positions one sequence can reach. */
    int maxContext();

    /** The most tokens one {@link #forward} call takes (longer prompts are fed in chunks). */
    int maxStepTokens();

    /**
     * Runs the model over {@code tokens} at positions {@code pos ..} and returns logits:
     * {@code [1, vocab]} for the last token, or {@code [tokens, vocab]} for a model compiled with all logits.
     */
    float[] forward(int[] tokens, int pos);

    /**
     * Runs one step and picks the next token. Runtimes that sample on the device override this so
     * only a token id crosses to the host; this default samples the returned logits on the host.
     */
    default int forwardAndSample(int[] tokens, int pos, Sampler sampler, int[] context, int contextLength) {
        return sampler.sample(forward(tokens, pos), context, contextLength);
    }

    /** Bytes of weights this runner reads per decode step (for % of roofline). */
    long weightBytes();

    @Override
    void close();
}
