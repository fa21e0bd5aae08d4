package jmlc.engine.runtime.gpu;

import jmlc.compiler.schedule.Knobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Knob values found by tuning or set by hand, read by every path that compiles (the running model,
 * {@code jmlc compile}, {@code %kernels}, {@code %source}) over the rules' defaults: lines of
 * {@code <kernel signature>.<knob>=<value>}, where the signature names one target or all of them:
 * <pre>
 * gemvh_q4f16g32z7_12288x4096@cuda:sm_90.rows_per_warp=4     # on sm_90 only
 * attention_decode_h32_kv32_d128_c4096_f16.fuse_rope=0        # on every target
 * runner.short_prompt=3
 * </pre>
 * Its path is {@code $JMLC_KNOBS}, else {@code ~/.cache/jmlc/knobs.properties} when it exists.
 * Values are checked against each rule's knob space when a kernel is built.
 */
public final class TuningDatabase {
    private TuningDatabase() {}

    /** The database at {@code $JMLC_KNOBS} or {@code ~/.cache/jmlc/knobs.properties}; none there is no knobs. */
    public static Knobs load() {
        String env = System.getenv("JMLC_KNOBS");
        Path p = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "jmlc", "knobs.properties");
        if (env != null && !env.isBlank() && !Files.isRegularFile(p))
            throw new IllegalArgumentException("JMLC_KNOBS names " + p + ", which is not a file");
        return Files.isRegularFile(p) ? load(p) : Knobs.defaults();
    }

    public static Knobs load(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the tuning database " + file + ": " + e.getMessage(), e);
        }
        Map<String, Map<String, Integer>> bySignature = new LinkedHashMap<>();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith("!")) continue;
            String where = file + " line " + (n + 1);
            int eq = line.indexOf('=');
            if (eq < 0) throw new IllegalArgumentException(where + ": '" + line + "' should be <kernel signature>.<knob>=<value>");
            String key = line.substring(0, eq).strip(), value = line.substring(eq + 1).strip();
            int dot = key.lastIndexOf('.');
            if (dot <= 0 || dot == key.length() - 1) throw new IllegalArgumentException(where + ": '" + key + "' should be <kernel signature>.<knob>");
            try {
                bySignature.computeIfAbsent(key.substring(0, dot), k -> new LinkedHashMap<>()).put(key.substring(dot + 1), Integer.parseInt(value));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ": knob " + key + " must be an integer, found '" + value + "'");
            }
        }
        Knobs k = Knobs.defaults();
        bySignature.forEach(k::put);
        return k;
    }
}
