package jmlc.engine.generate;

import jmlc.engine.runtime.ModelRunner;

import java.util.Arrays;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import jmlc.engine.sampling.Sampler;

/**
 * The generation loop over a {@link ModelRunner}: prefill the new tokens (in chunks the runner
 * accepts) after what the cache already holds, then decode one token per step until a stop token,
 * the token limit, the context window, or cancellation.
 */
public final class Generator {

    public enum StopReason { STOP_TOKEN, MAX_TOKENS, CONTEXT_FULL, CANCELLED }

    /**
     * @param tokens      generated ids (stop token excluded)
     * @param cacheTokens the tokens the KV cache holds afterwards, position by position (the last
     *                    generated token is chosen but not yet fed, so it is not among them)
     * @param reason      why it stopped
     */
    public record Result(int[] tokens, int[] cacheTokens, StopReason reason, GenerationStats stats) {}

    private Generator() {}

    /**
     * @param cached   tokens the cache already holds at positions {@code 0 .. cachedLength-1} (the conversation so far)
     * @param prompt   new tokens to feed at position {@code cachedLength}
     * @param onToken  called with each generated id as soon as it is chosen (streaming)
     * @param cancel   checked between steps; true stops the generation with what it has
     */
    public static Result generate(ModelRunner runner, int[] cached, int cachedLength, int[] prompt, GenerationConfig cfg,
                                  IntConsumer onToken, BooleanSupplier cancel) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt has no tokens");
        int window = runner.maxContext();
        int needed = cachedLength + prompt.length;
        if (needed > window) {
            throw cachedLength > 0 ? ContextWindowException.conversation(needed, window)
                    : ContextWindowException.tokens("the prompt", needed, window, runner.model().config().maxPositions());
        }

        int[] context = Arrays.copyOf(cached, Math.max(cached.length, window) + 1);
        System.arraycopy(prompt, 0, context, cachedLength, prompt.length);
        Sampler sampler = new Sampler(cfg.sampling());

        // the last position a decode step of this request can feed: the token budget, the window
        runner.decodeLimit(Math.min(needed + cfg.maxTokens() - 2, window - 1));
        try {
            return run(runner, context, cachedLength, needed, prompt.length, cfg, onToken, cancel, sampler);
        } finally {
            runner.decodeLimit(-1);
        }
    }

    private static Result run(ModelRunner runner, int[] context, int cachedLength, int needed, int promptLength, GenerationConfig cfg,
                              IntConsumer onToken, BooleanSupplier cancel, Sampler sampler) {
        int window = runner.maxContext();
        int len = needed;
        long t0 = System.nanoTime();
        int pos = cachedLength, step = runner.maxStepTokens();
        int next = -1;
        while (pos < needed) {
            int n = Math.min(step, needed - pos);
            int[] chunk = Arrays.copyOfRange(context, pos, pos + n);
            boolean last = pos + n == needed;
            if (last) next = runner.forwardAndSample(chunk, pos, sampler, context, len);
            else runner.prefill(chunk, pos); // no logits, no wait: the next chunk queues behind it
            pos += n;
        }
        long prefillNanos = System.nanoTime() - t0;

        int[] out = new int[Math.max(0, cfg.maxTokens())];
        int count = 0;
        StopReason reason = StopReason.MAX_TOKENS;
        long t1 = System.nanoTime();
        while (count < cfg.maxTokens()) {
            if (!cfg.ignoreStop() && cfg.stopTokens().contains(next)) {
                reason = StopReason.STOP_TOKEN;
                break;
            }
            out[count++] = next;
            context[len++] = next;
            onToken.accept(next);
            if (count == cfg.maxTokens()) break;
            if (cancel.getAsBoolean()) {
                reason = StopReason.CANCELLED;
                break;
            }
            if (pos >= window) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            next = runner.forwardAndSample(new int[] {next}, pos, sampler, context, len);
            pos++;
        }
        long decodeNanos = System.nanoTime() - t1;
        // the first token comes from the prefill step; decode steps made the rest
        int decoded = Math.max(0, Math.min(count, pos - needed));
        GenerationStats stats = new GenerationStats(promptLength, prefillNanos, decoded, decoded == 0 ? 0 : decodeNanos);
        return new Result(Arrays.copyOf(out, count), Arrays.copyOf(context, pos), reason, stats);
    }
}
