package jmlc.engine.runtime;

import java.util.Map;

/**
 * How a runtime runs a loaded model, as opposed to what it computes: set through
 * {@code LoadOptions}; environment variables override them for experiments.
 *
 * @param decodeAhead        greedy GPU steps queued ahead of the host, 0 to 8 ({@code JMLC_DECODE_AHEAD});
 *                           while the host takes one token the device computes the next
 * @param programmaticLaunch launch the decode step's kernels as programmatic dependents where the GPU has
 *                           them (CUDA sm_90+): each may launch while the one before drains. {@code null} (the
 *                           default): as the decode program asks, which is where a kernel triggers early
 *                           ({@code Program.triggersEarly}: the GEMV's ring with knob {@code trigger} 1, sm_90's
 *                           default), or where the tuning database's runner entry asks ({@code dependent} 1);
 *                           {@code true}/{@code false} ({@code JMLC_PDL=1}/{@code 0}) for every program. It was off
 *                           for a day (2026-12-06): the captured step computed NaN under it, because every kernel's
 *                           activations were declared {@code const __restrict__}, so ptxas loaded them as invariant
 *                           ({@code LDG.CONSTANT}) and hoisted the GEMV's loads of x above its griddepcontrol.wait
 *                           (ACQBULK); CEmitter now declares only weights so. Worth 12% of decode on an H100 (7B 504
 *                           -> 567 tok/s). Prefill keeps plain launches either way
 * @param persistentKernels  the most consecutive decode launches one persistent kernel with grid barriers runs
 *                           ({@code JMLC_PERSISTENT}; the knob {@code decode_persistent.kernels}, laid over the
 *                           tuning database's): 0 leaves it to the database, 1 launches kernel by kernel. CUDA only
 */
public record RuntimeSettings(int decodeAhead, Boolean programmaticLaunch, int persistentKernels) {
    public static final int DEFAULT_DECODE_AHEAD = 2, MAX_DECODE_AHEAD = 8, MAX_PERSISTENT_KERNELS = 64;

    public RuntimeSettings {
        if (decodeAhead < 0 || decodeAhead > MAX_DECODE_AHEAD)
            throw new IllegalArgumentException("decode-ahead must be a whole number from 0 to " + MAX_DECODE_AHEAD + " (greedy steps queued ahead), found " + decodeAhead);
        if (persistentKernels < 0 || persistentKernels > MAX_PERSISTENT_KERNELS)
            throw new IllegalArgumentException("persistent kernels must be a whole number from 0 (the tuning database's) to " + MAX_PERSISTENT_KERNELS
                    + " (decode launches one kernel runs; 1: none fused), found " + persistentKernels);
    }

    public RuntimeSettings(int decodeAhead, Boolean programmaticLaunch) {
        this(decodeAhead, programmaticLaunch, 0);
    }

    public static RuntimeSettings defaults() {
        return new RuntimeSettings(DEFAULT_DECODE_AHEAD, null, 0);
    }

    public RuntimeSettings decodeAhead(int steps) {
        return new RuntimeSettings(steps, programmaticLaunch, persistentKernels);
    }

    /** Dependent launches for every decode program ({@code true}), none ({@code false}), or as each asks ({@code null}). */
    public RuntimeSettings programmaticLaunch(Boolean on) {
        return new RuntimeSettings(decodeAhead, on, persistentKernels);
    }

    public RuntimeSettings persistentKernels(int kernels) {
        return new RuntimeSettings(decodeAhead, programmaticLaunch, kernels);
    }

    /** Whether {@code program}'s launches go as programmatic dependents: as set, else as the program asks ({@link #programmaticLaunch}). */
    public boolean dependentLaunches(jmlc.compiler.schedule.Program program) {
        return programmaticLaunch != null ? programmaticLaunch : program.triggersEarly();
    }

    /** These settings with {@code JMLC_DECODE_AHEAD}, {@code JMLC_PDL} and {@code JMLC_PERSISTENT} from {@code env} laid over them. */
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
        String persistent = env.get("JMLC_PERSISTENT");
        if (persistent != null && !persistent.isBlank()) {
            try {
                s = s.persistentKernels(Integer.parseInt(persistent.trim()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("JMLC_PERSISTENT must be a whole number from 0 (the tuning database's) to " + MAX_PERSISTENT_KERNELS
                        + " (decode launches one persistent kernel runs; 1: none fused), found '" + persistent + "'");
            }
        }
        return s;
    }
}
