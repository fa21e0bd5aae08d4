package jmlc.engine.format;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.hf.HfConfig;
import jmlc.engine.format.safetensors.SafetensorsHeader;
import jmlc.engine.format.safetensors.SafetensorsWriter;
import jmlc.engine.format.tensor.FileMapping;
import jmlc.engine.format.tensor.Interrupts;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorView;

/**
 * A Hugging Face model directory, as {@code save_pretrained} writes it and the Hub serves it:
 * <pre>
 * config.json
 * model.safetensors                       one file, or
 * model.safetensors.index.json            {"weight_map": {tensor name: shard file}}
 * model-00001-of-0000N.safetensors ...    with the shards it names
 * tokenizer.json, tokenizer_config.json   read by the tokenizer, from {@link #directory()}
 * </pre>
 * Every safetensors file is memory-mapped once; tensors are views into the mappings.
 */
public final class HfCheckpoint implements Checkpoint {
    public static final String CONFIG = jmlc.engine.format.hf.HfConfig.FILE;
    public static final String SINGLE_FILE = jmlc.engine.format.hf.HfModelWriter.SINGLE_FILE;

    private final Path dir;
    private final ModelConfig config;
    private final Map<String, TensorView> tensors;
    private final Arena arena;

    private HfCheckpoint(Path dir, ModelConfig config, Map<String, TensorView> tensors, Arena arena) {
        this.dir = dir;
        this.config = config;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.arena = arena;
    }

    /** Opens the directory; does not check tensor shapes (see {@link #validate()}). */
    public static HfCheckpoint open(Path dir) {
        if (!Files.isDirectory(dir)) throw new ModelFormatException(dir, "not a directory (expected a Hugging Face model directory with config.json and *.safetensors)");
        ModelConfig config = HfConfig.read(dir.resolve(CONFIG));
        Arena arena = Arena.ofShared();
        try {
            Path index = dir.resolve(SafetensorsWriter.INDEX_FILE);
            Map<String, TensorView> tensors;
            if (Files.exists(index)) tensors = readSharded(dir, index, arena);
            else if (Files.exists(dir.resolve(SINGLE_FILE))) tensors = readFile(dir.resolve(SINGLE_FILE), arena, "safetensors weights");
            else throw new ModelFormatException(dir, "no " + SINGLE_FILE + " or " + SafetensorsWriter.INDEX_FILE + " (found: " + listing(dir) + ")");
            return new HfCheckpoint(dir, config, tensors, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, TensorView> readFile(Path file, Arena arena, String what) {
        MemorySegment bytes = FileMapping.map(file, arena, what);
        return SafetensorsHeader.parse(file, bytes).views(bytes);
    }

    /** Maps each shard the index names once, then takes each tensor from the shard the index says. */
    private static Map<String, TensorView> readSharded(Path dir, Path index, Arena arena) {
        FileMapping.requireRegularFile(index, "the JSON index of the safetensors shards");
        JsonNode root;
        try {
            root = HfConfig.JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(index, "not valid JSON: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty())
            throw new ModelFormatException(index, "key 'weight_map': expected an object {tensor name: shard file}, found " + (map == null ? "nothing" : map.toString()));
        Map<String, Map<String, TensorView>> shards = new LinkedHashMap<>();
        Map<String, TensorView> tensors = new LinkedHashMap<>();
        for (var e : map.properties()) {
            if (tensors.size() % 4096 == 0) Interrupts.check(index, "reading");
            String name = e.getKey();
            if (!e.getValue().isTextual()) throw new ModelFormatException(index, "key 'weight_map." + name + "': expected a shard file name, found " + e.getValue());
            String shard = e.getValue().asText();
            Path file;
            try {
                file = dir.resolve(shard).normalize();
            } catch (InvalidPathException bad) {
                throw new ModelFormatException(index, "key 'weight_map." + name + "': shard " + e.getValue() + " is not a valid file name (" + bad.getReason() + ")", bad);
            }
            if (!file.startsWith(dir.normalize()) || shard.isEmpty())
                throw new ModelFormatException(index, "key 'weight_map." + name + "': shard '" + shard + "' is not a file inside " + dir);
            Map<String, TensorView> inShard = shards.computeIfAbsent(shard,
                    s -> readFile(file, arena, "the shard " + SafetensorsWriter.INDEX_FILE + " names for " + name));
            TensorView t = inShard.get(name);
            if (t == null) throw new ModelFormatException(file, "no tensor " + name + ", though " + SafetensorsWriter.INDEX_FILE + " places it in this shard");
            tensors.put(name, t);
        }
        return tensors;
    }

    private static String listing(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            String l = String.join(", ", s.map(p -> p.getFileName().toString()).sorted().toList());
            return l.isEmpty() ? "nothing" : l;
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    @Override
    public Path path() {
        return dir;
    }

    /** The model directory: tokenizer.json, tokenizer_config.json and generation_config.json live here. */
    public Path directory() {
        return dir;
    }

    @Override
    public String layerCountKey() {
        return CONFIG + " num_hidden_layers";
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public Map<String, TensorView> tensors() {
        return tensors;
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "HfCheckpoint[" + dir + ", " + tensors.size() + " tensors]";
    }
}
