package jmlc.engine.runtime;

import java.util.Map;

/**
 * How a runtime runs a loaded model, as opposed to what it computes: set through
 * {@code LoadOptions}; environment variables override them for experiments.
 *
 * @param decodeAhead        greedy GPU steps queued ahead of the host, 0 to 8 ({@code JMLC_DECODE_AHEAD});
 *                           while the host takes one token the device computes the next
 * @param programmaticLaunch launch decode kernels as programmatic dependents where the GPU has them
 *                           ({@code JMLC_PDL=1}); measured slower on the H100 and H200, so off by default
 */
public record RuntimeSettings(int decodeAhead, boolean programmaticLaunch) {
    public static final int DEFAULT_DECODE_AHEAD = 2, MAX_DECODE_AHEAD = 8;

    public RuntimeSettings {
        if (decodeAhead < 0 || decodeAhead > MAX_DECODE_AHEAD)
            throw new IllegalArgumentException("decode-ahead must be a whole number from 0 to " + MAX_DECODE_AHEAD + " (greedy steps queued ahead), found " + decodeAhead);
    }

    public static RuntimeSettings defaults() {
        return new RuntimeSettings(DEFAULT_DECODE_AHEAD, false);
    }

    public RuntimeSettings decodeAhead(int steps) {
        return new RuntimeSettings(steps, programmaticLaunch);
    }

    public RuntimeSettings programmaticLaunch(boolean on) {
        return new RuntimeSettings(decodeAhead, on);
    }

    /** These settings with {@code JMLC_DECODE_AHEAD} and {@code JMLC_PDL} from {@code env} laid over them. */
    public RuntimeSettings withEnvironment(Map<String, String> env) {
        RuntimeSettings s = this;
        String ahead = env.get("JMLC_DECODE_AHEAD");
        if (ahead != null && !ahead.isBlank()) {
            try {
                s = s.decodeAhead(Integer.parseInt(ahead.trim()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("JMLC_DECODE_AHEAD must be a whole number from 0 to " + MAX_DECODE_AHEAD + " (greedy steps queued ahead), found '" + ahead + "'");
            }
        }
        String pdl = env.get("JMLC_PDL");
        if (pdl != null && !pdl.isBlank()) {
            if (!pdl.trim().equals("0") && !pdl.trim().equals("1")) throw new IllegalArgumentException("JMLC_PDL must be 0 or 1, found '" + pdl + "'");
            s = s.programmaticLaunch(pdl.trim().equals("1"));
        }
        return s;
    }
}
