package jmlc.engine.sampling;

/**
 * A step's logits hold NaN or an infinity: the weights hold such values, or the activations
 * overflowed. Sampling them would pick tokens from garbage without a word.
 */
public final class NonFiniteLogitsException extends IllegalStateException {
    private final int tokenId;
    private final float value;

    public NonFiniteLogitsException(int tokenId, float value) {
        super("the model's logits are not finite (" + value + " for token id " + tokenId + ")");
        this.tokenId = tokenId;
        this.value = value;
    }

    /** The first id whose logit is not finite. */
    public int tokenId() {
        return tokenId;
    }

    public float value() {
        return value;
    }

    /** Fails if any logit is NaN or infinite; one pass over the row, cheap next to sampling it. */
    public static void check(float[] logits) {
        for (int i = 0; i < logits.length; i++)
            if (!Float.isFinite(logits[i])) throw new NonFiniteLogitsException(i, logits[i]);
    }
}
