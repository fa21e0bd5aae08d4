package jmlc.engine.format.gguf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jmlc.compiler.ir.RopeSpec;
import jmlc.engine.format.tensor.ModelFormatException;

/**
 * Llama 3.1-style rope scaling as llama.cpp stores it: GGUF has no keys for it; the converter
 * writes a {@code rope_freqs.weight} tensor of head_dim/2 f32 divisors, one per rotary pair, and
 * ggml divides each frequency by its entry ({@code LlamaModel.generate_extra_tensors} in
 * convert_hf_to_gguf.py):
 * <pre>
 * wavelen = 2π / freq
 * wavelen &lt; original_max_position_embeddings / high_freq_factor  → 1
 * wavelen &gt; original_max_position_embeddings / low_freq_factor   → factor
 * otherwise: smooth = (orig / wavelen − low) / (high − low);    → 1 / ((1 − smooth) / factor + smooth)
 * </pre>
 * Reading goes the other way: the four parameters are recovered from the divisors. Only their
 * ratios matter to the frequencies, so low_freq_factor is taken as 1 (as in every Llama 3.x
 * config); with fewer than two divisors in the smooth band, high_freq_factor is taken as 4 (the
 * transformers default) when that fits, else a value that reproduces the divisors. The recovered
 * parameters are checked to reproduce every divisor.
 */
public final class Llama3RopeFactors {
    private Llama3RopeFactors() {}

    /** GGUF name of the divisor tensor ({@code MODEL_TENSOR.ROPE_FREQS}). */
    public static final String TENSOR = "rope_freqs.weight";

    private static final double TOLERANCE = 1e-4;

    /** The divisors llama.cpp's converter writes for {@code s}: head_dim/2 values. */
    public static float[] divisors(RopeSpec.Scaling.Llama3 s, double theta, int headDim) {
        double[] freq = baseFrequencies(theta, headDim);
        double lowWavelen = s.originalMaxPositions() / s.lowFreqFactor();
        double highWavelen = s.originalMaxPositions() / s.highFreqFactor();
        float[] out = new float[freq.length];
        for (int i = 0; i < freq.length; i++) {
            double wavelen = 2 * Math.PI / freq[i];
            if (wavelen < highWavelen) out[i] = 1;
            else if (wavelen > lowWavelen) out[i] = (float) s.factor();
            else {
                double smooth = (s.originalMaxPositions() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                out[i] = (float) (1 / ((1 - smooth) / s.factor() + smooth));
            }
        }
        return out;
    }

    /** The scaling that {@code divisors} describe: None, Linear, or Llama3. */
    public static RopeSpec.Scaling fit(Path file, float[] divisors, double theta, int headDim) {
        double[] freq = baseFrequencies(theta, headDim);
        if (divisors.length != freq.length)
            throw new ModelFormatException(file, "tensor " + TENSOR + " has " + divisors.length + " values, expected head_dim/2 = " + freq.length);
        double f = 0;
        for (float d : divisors) {
            if (!(d > 0) || Float.isInfinite(d)) throw new ModelFormatException(file, "tensor " + TENSOR + " holds " + d + ", expected positive divisors");
            f = Math.max(f, d);
        }
        List<Integer> ones = new ArrayList<>(), full = new ArrayList<>(), band = new ArrayList<>();
        for (int i = 0; i < divisors.length; i++) {
            if (close(divisors[i], 1)) ones.add(i);
            else if (close(divisors[i], f)) full.add(i);
            else band.add(i);
        }
        if (full.isEmpty() && band.isEmpty()) return new RopeSpec.Scaling.None();
        if (ones.isEmpty() && band.isEmpty()) return new RopeSpec.Scaling.Linear(f);

        double[] wavelen = new double[freq.length];
        for (int i = 0; i < freq.length; i++) wavelen[i] = 2 * Math.PI / freq[i];
        // smooth_i = (orig / wavelen_i − low) / (high − low) = a / wavelen_i − b
        double[] smooth = new double[divisors.length];
        for (int i : band) smooth[i] = (1 / divisors[i] - 1 / f) / (1 - 1 / f);
        List<RopeSpec.Scaling.Llama3> candidates = new ArrayList<>();
        if (band.size() >= 2) {
            double[] ab = leastSquares(band, wavelen, smooth);
            double a = ab[0], b = ab[1];
            if (b > 0) candidates.add(new RopeSpec.Scaling.Llama3(f, 1, 1 + 1 / b, a / b));
        } else if (band.size() == 1) {
            // orig = w (1 + (high − 1) s) puts the point at its place in the band for any high; the
            // other divisors bound high: 1s need wavelen < orig / high, factors wavelen > orig
            int i = band.getFirst();
            double w = wavelen[i], si = smooth[i], hmax = Double.POSITIVE_INFINITY;
            double maxOne = ones.stream().mapToDouble(j -> wavelen[j]).max().orElse(0);
            double minFull = full.stream().mapToDouble(j -> wavelen[j]).min().orElse(Double.POSITIVE_INFINITY);
            if (maxOne / w - si > 0) hmax = Math.min(hmax, (1 - si) / (maxOne / w - si));
            if (si > 0) hmax = Math.min(hmax, 1 + (minFull / w - 1) / si);
            for (double high : new double[] {4, 1 + (Math.min(hmax, 4) - 1) / 2})
                candidates.add(new RopeSpec.Scaling.Llama3(f, 1, high, w * (1 + (high - 1) * si)));
        } else {
            double maxOne = ones.stream().mapToDouble(i -> wavelen[i]).max().orElseThrow();
            double minFull = full.stream().mapToDouble(i -> wavelen[i]).min().orElseThrow();
            double high = Math.min(4, Math.sqrt(minFull / maxOne));
            candidates.add(new RopeSpec.Scaling.Llama3(f, 1, 4, 4 * Math.sqrt(maxOne * minFull)));
            candidates.add(new RopeSpec.Scaling.Llama3(f, 1, high, Math.sqrt(maxOne * high * minFull)));
        }
        for (RopeSpec.Scaling.Llama3 raw : candidates) {
            RopeSpec.Scaling.Llama3 snapped = new RopeSpec.Scaling.Llama3(snap(raw.factor()), 1, snap(raw.highFreqFactor()), snap(raw.originalMaxPositions()));
            if (reproduces(snapped, divisors, theta, headDim)) return snapped;
            if (reproduces(raw, divisors, theta, headDim)) return raw;
        }
        throw new ModelFormatException(file, "tensor " + TENSOR + " does not follow Llama 3 rope scaling (divisors 1, then a smooth band, then one factor), "
                + "which is the only per-frequency scaling jmlc computes; found " + java.util.Arrays.toString(divisors));
    }

    /** Frequencies before scaling, as {@link RopeSpec#invFreq()} computes them. */
    private static double[] baseFrequencies(double theta, int headDim) {
        return new RopeSpec(headDim, theta, RopeSpec.Style.HALF, new RopeSpec.Scaling.None()).invFreq();
    }

    /** Least-squares {@code (a, b)} with {@code smooth_i ≈ a · x_i − b}, {@code x_i = 1 / wavelen_i}. */
    private static double[] leastSquares(List<Integer> idx, double[] wavelen, double[] smooth) {
        double n = idx.size(), sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int i : idx) {
            double x = 1 / wavelen[i], y = smooth[i];
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        double a = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        double intercept = (sy - a * sx) / n;
        return new double[] {a, -intercept};
    }

    private static boolean reproduces(RopeSpec.Scaling.Llama3 s, float[] divisors, double theta, int headDim) {
        if (!(s.highFreqFactor() > s.lowFreqFactor()) || !(s.originalMaxPositions() > 0) || !(s.factor() > 0)) return false;
        float[] want = divisors(s, theta, headDim);
        for (int i = 0; i < want.length; i++) if (!close(want[i], divisors[i])) return false;
        return true;
    }

    private static boolean close(double x, double y) {
        return Math.abs(x - y) <= TOLERANCE * Math.max(Math.abs(x), Math.abs(y));
    }

    /** The nearest integer when within the fit's precision of one (configs hold 8, 4, 8192 ...). */
    private static double snap(double x) {
        double r = Math.rint(x);
        return Math.abs(x - r) <= TOLERANCE * Math.max(1, Math.abs(x)) ? r : x;
    }
}
