package jmlc.engine.tuning;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.tune.TuningRecord;
import jmlc.engine.runtime.DeviceIdentity;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The tuning database: one JSON file per device under {@link #directory()}, named for the device
 * ({@link DeviceIdentity#fileName()}), holding for each kernel signature the best knob values
 * found, their time, the defaults' time, and when and how they were measured:
 * <pre>
 * {"jmlc_tuning": 1,
 *  "device": {"backend": "cuda", "name": "NVIDIA H200", "target": "cuda:sm_90", "driver": "CUDA 13.0"},
 *  "kernels": {"gemvh_q4f16g32z740964096_4096x4096@cuda:sm_90":
 *                {"knobs": {"warps": 8, "rows_per_warp": 2, ...}, "best_ms": 0.0057, "default_ms": 0.0059, "gain": 1.035,
 *                 "candidates": 96, "rejected": 0, "exhausted": false, "timed_as": "decode at position 256", "uses": 32,
 *                 "measured": "2026-12-04T10:00:00Z", "how": "cuda:0 device events ..."},
 *              "runner@cuda:sm_90": {"knobs": {"short_prompt": 3}}}}
 * </pre>
 * Every path that compiles reads it: the running model, {@code jmlc compile}, {@code %kernels} and
 * {@code %source}. Entries may be written by hand (only {@code knobs} is required; a signature
 * without {@code @target} holds for every target). Reading never fails: a file that is not valid
 * JSON, belongs to another device, or has a malformed entry gives a warning and the rules' defaults
 * for what it cannot use.
 */
public final class TuningDatabase {
    private TuningDatabase() {}

    static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * What a read found: the knob values to compile with, the entries as records (measurements
     * absent from hand-written entries read as 0), the file, and warnings for the user.
     */
    public record Loaded(Knobs knobs, List<TuningRecord> records, Path file, List<String> warnings) {
        public Loaded {
            records = List.copyOf(records);
            warnings = List.copyOf(warnings);
        }

        /** The same with {@code values} for {@code signature} laid over its knobs (settings that override the database). */
        public Loaded with(jmlc.compiler.schedule.KernelSignature signature, java.util.Map<String, Integer> values) {
            return new Loaded(Knobs.defaults().with(knobs).put(signature, values), records, file, warnings);
        }

        /** No database: the rules' defaults. */
        public static Loaded none(Path file, List<String> warnings) {
            return new Loaded(Knobs.defaults(), List.of(), file, warnings);
        }
    }

    /** Where the databases live: {@code -Djmlc.tuning=DIR}, else {@code $JMLC_TUNING}, else {@code ~/.cache/jmlc/tuning}. */
    public static Path directory() {
        String prop = System.getProperty("jmlc.tuning"), env = System.getenv("JMLC_TUNING");
        if (prop != null && !prop.isBlank()) return Path.of(prop);
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "jmlc", "tuning");
    }

    /** The database file of {@code device} in {@code dir}. */
    public static Path file(Path dir, DeviceIdentity device) {
        return dir.resolve(device.fileName());
    }

    /** The database of {@code device} in the {@link #directory()}; no file is no knobs. */
    public static Loaded forDevice(DeviceIdentity device) {
        return read(file(directory(), device), device);
    }

    /**
     * The database for compiling to {@code target} without its device at hand ({@code jmlc compile},
     * {@code %kernels --target}): {@code preferred}'s when it has that target, else the one database
     * in {@code dir} for that target; several (devices of one target) are a warning and none is used.
     * The simulator's databases (tuned for its modeled clock) serve only the simulator.
     */
    public static Loaded forTarget(Path dir, String target, DeviceIdentity preferred) {
        if (preferred != null && preferred.target().equals(target)) return read(file(dir, preferred), preferred);
        List<Path> matching = new ArrayList<>();
        for (Path f : files(dir)) {
            DeviceIdentity d = identity(f);
            if (d != null && d.target().equals(target) && !d.backend().equals("sim")) matching.add(f);
        }
        if (matching.isEmpty()) return Loaded.none(null, List.of());
        if (matching.size() > 1)
            return Loaded.none(null, List.of("tuning databases of several devices have target " + target + " (" + String.join(", ", matching.stream().map(Path::toString).toList())
                    + "): none is used; compile on the device itself for its tuned kernels"));
        return read(matching.getFirst(), identity(matching.getFirst()));
    }

    /** The database files in {@code dir}, by name. */
    public static List<Path> files(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".json") && Files.isRegularFile(p)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The device a database file says it belongs to, or null when it cannot be read. */
    public static DeviceIdentity identity(Path file) {
        try {
            return identity(JSON.readTree(file.toFile()));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static DeviceIdentity identity(JsonNode root) {
        JsonNode d = root.path("device");
        if (!d.path("backend").isTextual() || !d.path("name").isTextual() || !d.path("target").isTextual())
            throw new IllegalArgumentException("no device backend, name and target");
        return new DeviceIdentity(d.path("backend").asText(), d.path("name").asText(), d.path("target").asText(), d.path("driver").asText(""));
    }

    /**
     * Reads {@code file}, expecting it to belong to {@code expected} (null: to whatever device it
     * names, for showing). Never throws: what it cannot use is a warning.
     */
    public static Loaded read(Path file, DeviceIdentity expected) {
        if (file == null || !Files.exists(file)) return Loaded.none(file, List.of());
        String ignoring = ": ignoring it, the kernels use the rules' defaults (run 'jmlc tune' to write it again)";
        JsonNode root;
        DeviceIdentity found;
        try {
            root = JSON.readTree(file.toFile());
            if (root == null || !root.isObject()) throw new IllegalArgumentException("not a JSON object");
            if (root.path("jmlc_tuning").asInt(-1) != FORMAT) throw new IllegalArgumentException("not a jmlc tuning database of format " + FORMAT);
            found = identity(root);
        } catch (JsonProcessingException e) {
            return Loaded.none(file, List.of("the tuning database " + file + " is not valid JSON (" + e.getOriginalMessage() + ")" + ignoring));
        } catch (IOException | IllegalArgumentException e) {
            return Loaded.none(file, List.of("cannot read the tuning database " + file + " (" + e.getMessage() + ")" + ignoring));
        }
        List<String> warnings = new ArrayList<>();
        if (expected != null && !found.sameDevice(expected))
            return Loaded.none(file, List.of("the tuning database " + file + " was tuned on " + found + ", not on this " + expected + ignoring));
        if (expected != null && !found.driver().equals(expected.driver()))
            warnings.add("the tuning database " + file + " was measured with driver " + (found.driver().isEmpty() ? "(unknown)" : found.driver())
                    + "; this device has " + (expected.driver().isEmpty() ? "(unknown)" : expected.driver()) + ": its knobs are used ('jmlc tune' measures them again)");
        Knobs knobs = Knobs.defaults();
        List<TuningRecord> records = new ArrayList<>();
        JsonNode kernels = root.path("kernels");
        if (!kernels.isObject() && !kernels.isMissingNode()) warnings.add("the tuning database " + file + ": 'kernels' is not an object" + ignoring);
        for (var e : kernels.properties()) {
            try {
                TuningRecord r = record(e.getKey(), e.getValue());
                knobs.put(r.signature(), r.knobs());
                records.add(r);
            } catch (IllegalArgumentException ex) {
                warnings.add("the tuning database " + file + ", kernel " + e.getKey() + ": " + ex.getMessage() + "; that kernel uses its defaults");
            }
        }
        return new Loaded(knobs, records, file, warnings);
    }

    private static TuningRecord record(String signature, JsonNode e) {
        if (!e.isObject()) throw new IllegalArgumentException("not an object");
        JsonNode k = e.path("knobs");
        if (!k.isObject() || k.isEmpty()) throw new IllegalArgumentException("no 'knobs' object");
        Map<String, Integer> knobs = new LinkedHashMap<>();
        for (var kv : k.properties()) {
            if (!kv.getValue().isInt()) throw new IllegalArgumentException("knob " + kv.getKey() + " must be an integer, found " + kv.getValue());
            knobs.put(kv.getKey(), kv.getValue().intValue());
        }
        return new TuningRecord(signature, knobs, e.path("best_ms").asDouble(0), e.path("default_ms").asDouble(0), e.path("candidates").asInt(0),
                e.path("rejected").asInt(0), e.path("exhausted").asBoolean(false), e.path("timed_as").asText(""), e.path("uses").asInt(0),
                e.path("measured").asText(""), e.path("how").asText(""));
    }

    /**
     * Writes {@code records} into {@code device}'s database in {@code dir}: entries for other
     * signatures stay; a file of another device, or one that cannot be read, is replaced. Atomic:
     * readers see the old file or the new one.
     */
    public static Path save(Path dir, DeviceIdentity device, List<TuningRecord> records) throws IOException {
        Path f = file(dir, device);
        Map<String, JsonNode> kernels = new TreeMap<>();
        if (Files.exists(f)) {
            try {
                JsonNode old = JSON.readTree(f.toFile());
                if (old != null && old.path("jmlc_tuning").asInt(-1) == FORMAT && identity(old).sameDevice(device))
                    old.path("kernels").properties().forEach(e -> kernels.put(e.getKey(), e.getValue()));
            } catch (IOException | RuntimeException e) {
                // unreadable: replaced
            }
        }
        for (TuningRecord r : records) kernels.put(r.signature(), node(r));
        ObjectNode root = JSON.createObjectNode();
        root.put("jmlc_tuning", FORMAT);
        ObjectNode d = root.putObject("device");
        d.put("backend", device.backend());
        d.put("name", device.name());
        d.put("target", device.target());
        d.put("driver", device.driver());
        ObjectNode k = root.putObject("kernels");
        kernels.forEach(k::set);
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, f.getFileName().toString(), ".tmp");
        try {
            JSON.writeValue(tmp.toFile(), root);
            Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return f;
    }

    private static JsonNode node(TuningRecord r) {
        ObjectNode n = JSON.createObjectNode();
        ObjectNode k = n.putObject("knobs");
        r.knobs().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> k.put(e.getKey(), e.getValue()));
        n.put("best_ms", r.bestMs());
        n.put("default_ms", r.defaultMs());
        n.put("gain", Math.round(r.gain() * 1e4) / 1e4);
        n.put("candidates", r.candidates());
        n.put("rejected", r.rejected());
        n.put("exhausted", r.exhausted());
        n.put("timed_as", r.timedAs());
        n.put("uses", r.uses());
        n.put("measured", r.measured());
        n.put("how", r.how());
        return n;
    }
}
