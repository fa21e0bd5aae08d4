package jmlc.compiler.ir;

/**
 * Rotary position embedding of one attention head of {@code headDim} values.
 *
 * <p>{@link Style#HALF} rotates value {@code i} with value {@code i + headDim/2} (Hugging Face's
 * {@code rotate_half}, also GGUF's NEOX style used by Qwen2); {@link Style#INTERLEAVED} rotates
 * value {@code 2i} with {@code 2i+1} (Meta's original Llama and llama.cpp's GGUF Llama files,
 * whose q/k rows llama.cpp permuted for it).
 */
public record RopeSpec(int headDim, double theta, Style style, Scaling scaling) {

    public enum Style { HALF, INTERLEAVED }

    /** Frequency scaling for long contexts (config.json {@code rope_scaling}). */
    public sealed interface Scaling {
        record None() implements Scaling {}

        /** {@code "type": "linear"}: positions divided by {@code factor}. */
        record Linear(double factor) implements Scaling {}

        /** {@code "rope_type": "llama3"} (Llama 3.1+). */
        record Llama3(double factor, double lowFreqFactor, double highFreqFactor, double originalMaxPositions) implements Scaling {}
    }

    public RopeSpec {
        if (headDim <= 0 || headDim % 2 != 0) throw new IllegalArgumentException("rope head_dim must be even and positive, not " + headDim);
        if (!(theta > 0)) throw new IllegalArgumentException("rope_theta must be positive, not " + theta);
    }

    /** Angle of pair {@code i} at position {@code p} is {@code p * invFreq[i]}; {@code headDim/2} entries. */
    public double[] invFreq() {
        int half = headDim / 2;
        double[] f = new double[half];
        for (int i = 0; i < half; i++) f[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        switch (scaling) {
            case Scaling.None n -> { }
            case Scaling.Linear l -> { for (int i = 0; i < half; i++) f[i] /= l.factor(); }
            case Scaling.Llama3 s -> {
                double lowWavelen = s.originalMaxPositions() / s.lowFreqFactor();
                double highWavelen = s.originalMaxPositions() / s.highFreqFactor();
                for (int i = 0; i < half; i++) {
                    double wavelen = 2 * Math.PI / f[i];
                    if (wavelen > lowWavelen) {
                        f[i] = f[i] / s.factor();
                    } else if (wavelen >= highWavelen) {
                        double smooth = (s.originalMaxPositions() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                        f[i] = (1 - smooth) * f[i] / s.factor() + smooth * f[i];
                    }
                }
            }
        }
        return f;
    }

    /** Index of the partner of pair {@code i}'s first element {@code a(i)}: the two values rotated together. */
    public int first(int i) {
        return style == Style.HALF ? i : 2 * i;
    }

    public int second(int i) {
        return style == Style.HALF ? i + headDim / 2 : 2 * i + 1;
    }
}
