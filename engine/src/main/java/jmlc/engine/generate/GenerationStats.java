package jmlc.engine.generate;

/**
 * Timings of the last request, as MLC reports them: prefill covers the prompt up to and
 * including the first generated token's logits; decode covers each later token.
 */
public record GenerationStats(int prefillTokens, long prefillNanos, int decodeTokens, long decodeNanos) {

    public static final GenerationStats NONE = new GenerationStats(0, 0, 0, 0);

    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : prefillTokens * 1e9 / prefillNanos;
    }

    public double decodeTokensPerSecond() {
        return decodeNanos == 0 ? 0 : decodeTokens * 1e9 / decodeNanos;
    }

    @Override
    public String toString() {
        return String.format("prefill: %.1f tok/s (%d tokens), decode: %.1f tok/s (%d tokens)",
                prefillTokensPerSecond(), prefillTokens, decodeTokensPerSecond(), decodeTokens);
    }
}
