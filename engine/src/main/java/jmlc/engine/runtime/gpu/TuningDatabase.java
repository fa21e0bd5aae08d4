package jmlc.engine.runtime.gpu;

import jmlc.compiler.schedule.Knobs;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Knob values found by tuning or by hand, read at compile time over the rules' per-target defaults:
 * a properties file of {@code <kernel signature>.<knob>=<value>} lines, e.g.
 * {@code gemvh_q4f16g32z7122884096_12288x4096.rows_per_warp=4}. Its path is {@code $JMLC_KNOBS},
 * else {@code ~/.cache/jmlc/knobs.properties} when it exists.
 */
public final class TuningDatabase {
    private TuningDatabase() {}

    public static Knobs load() {
        String env = System.getenv("JMLC_KNOBS");
        Path p = env != null ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "jmlc", "knobs.properties");
        return Files.exists(p) ? load(p) : Knobs.defaults();
    }

    public static Knobs load(Path file) {
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            props.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the tuning database " + file + ": " + e.getMessage(), e);
        }
        Map<String, Map<String, Integer>> bySignature = new HashMap<>();
        for (String key : props.stringPropertyNames()) {
            int dot = key.lastIndexOf('.');
            if (dot <= 0) throw new IllegalArgumentException(file + ": '" + key + "' should be <kernel signature>.<knob>");
            String value = props.getProperty(key).trim();
            try {
                bySignature.computeIfAbsent(key.substring(0, dot), k -> new HashMap<>()).put(key.substring(dot + 1), Integer.parseInt(value));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ": knob " + key + " must be an integer, found '" + value + "'");
            }
        }
        Knobs k = Knobs.defaults();
        bySignature.forEach(k::put);
        return k;
    }
}
