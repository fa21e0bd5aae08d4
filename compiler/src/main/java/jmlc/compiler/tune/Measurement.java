package jmlc.compiler.tune;

import java.util.Arrays;
import java.util.Map;

/** What measuring one candidate of a task found: its time, or why it was refused before any timing. */
public sealed interface Measurement {

    /** The candidate's knob values (the whole space: defaults where the candidate sets none). */
    Map<String, Integer> knobs();

    /**
     * A candidate that passed the reference check and was timed.
     *
     * @param ms       the median of the timed samples: device milliseconds for one run of the region
     * @param samples  every timed sample, in order (fewer when a candidate far slower than the best was cut short)
     * @param relError ‖out − ref‖ / ‖ref‖ of its check against the reference interpreter (the worst output)
     * @param resources what the device's compiler made of its kernels, where the driver says
     *                  ({@code 64 registers, 4 blocks an SM}); empty where it does not
     */
    record Timed(Map<String, Integer> knobs, double ms, double[] samples, double relError, String resources) implements Measurement {
        public Timed {
            knobs = Map.copyOf(knobs);
            samples = samples.clone();
        }

        public Timed(Map<String, Integer> knobs, double ms, double[] samples, double relError) {
            this(knobs, ms, samples, relError, "");
        }

        @Override
        public String toString() {
            return knobs + String.format(" %.4f ms (rel. error %.1e, %d samples %s)", ms, relError, samples.length, Arrays.toString(samples));
        }
    }

    /** A candidate refused: it failed to compile, to launch, or to match the reference interpreter. */
    record Rejected(Map<String, Integer> knobs, String reason) implements Measurement {
        public Rejected {
            knobs = Map.copyOf(knobs);
        }
    }

    /** The median of {@code v} (the mean of the middle two for an even count). */
    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** A timed measurement from its samples: the median is the figure. */
    static Timed timed(Map<String, Integer> knobs, double[] samples, double relError) {
        return new Timed(knobs, median(samples), samples, relError);
    }
}
