package jmlc.engine.format;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import jmlc.compiler.model.ModelConfig;
import jmlc.engine.format.gguf.GgufConfig;
import jmlc.engine.format.gguf.GgufFile;
import jmlc.engine.format.gguf.GgufNames;
import jmlc.engine.format.tensor.FileMapping;
import jmlc.engine.format.tensor.TensorView;

/**
 * A GGUF model file (llama.cpp's format): config and tokenizer in its metadata, tensors memory-mapped.
 * Tensors are renamed to Hugging Face names ({@link GgufNames}); shapes are Hugging Face order
 * (GGUF's dimensions reversed). For {@code llama} files the q/k rows stay as llama.cpp permuted
 * them, which the config's INTERLEAVED rope style accounts for.
 */
public final class GgufCheckpoint implements Checkpoint {
    private final GgufFile gguf;
    private final ModelConfig config;
    private final Map<String, TensorView> tensors;
    private final Map<String, String> fileNames;
    private final Arena arena;

    private GgufCheckpoint(GgufFile gguf, ModelConfig config, Map<String, TensorView> tensors, Map<String, String> fileNames, Arena arena) {
        this.gguf = gguf;
        this.config = config;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.fileNames = fileNames;
        this.arena = arena;
    }

    /** Opens the file; does not check tensor shapes (see {@link #validate()}). */
    public static GgufCheckpoint open(Path file) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment bytes = FileMapping.map(file, arena, "a GGUF model file");
            GgufFile gguf = GgufFile.parse(file, bytes);
            Map<String, TensorView> byGgufName = gguf.views(bytes);
            ModelConfig config = GgufConfig.read(file, gguf.metadata(), byGgufName);
            Map<String, TensorView> tensors = new LinkedHashMap<>();
            Map<String, String> fileNames = new LinkedHashMap<>();
            for (TensorView t : byGgufName.values()) {
                String hf = GgufNames.toHf(t.name()).orElse(t.name());
                tensors.put(hf, new TensorView(hf, t.dtype(), t.shape(), t.data(), t.file()));
                fileNames.put(hf, t.name());
            }
            return new GgufCheckpoint(gguf, config, tensors, fileNames, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public Path path() {
        return gguf.file();
    }

    /** GGUF format version (2 or 3). */
    public int version() {
        return gguf.version();
    }

    /**
     * All metadata: strings as String, every integer type as Long, f32/f64 as Double, bool as
     * Boolean, arrays as {@link jmlc.engine.format.gguf.GgufArray} (a List, kept as stored: each
     * get decodes its element); the tokenizer reads {@code tokenizer.ggml.*} from here.
     */
    public Map<String, Object> metadata() {
        return gguf.metadata();
    }

    @Override
    public String layerCountKey() {
        return metadata().get("general.architecture") + ".block_count";
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
    public String fileName(String hfName) {
        return fileNames.getOrDefault(hfName, GgufNames.toGguf(hfName).orElse(hfName));
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "GgufCheckpoint[" + gguf.file() + ", v" + gguf.version() + ", " + tensors.size() + " tensors]";
    }
}
