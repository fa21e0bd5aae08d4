package jmlc.engine.format.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jmlc.engine.format.tensor.FloatTensor;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorEncoding;

/**
 * Writes safetensors files as the reference implementation lays them out: 8-byte header length,
 * JSON header padded with spaces to a multiple of 8, then the tensors back to back in the order
 * they were added.
 *
 * <pre>
 * new SafetensorsWriter().metadata("format", "pt").add(w, TensorDType.BF16).write(path);
 * </pre>
 */
public final class SafetensorsWriter {
    /** Name of the index file of a sharded checkpoint. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private record Item(FloatTensor tensor, TensorDType dtype) {}

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Item> items = new LinkedHashMap<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds a tensor stored as F32, F16 or BF16 (safetensors has no ggml block types). */
    public SafetensorsWriter add(FloatTensor t, TensorDType dtype) {
        if (dtype.isQuantized()) throw new IllegalArgumentException("safetensors stores F32, F16 or BF16, not " + dtype + " (tensor " + t.name() + ")");
        if (items.putIfAbsent(t.name(), new Item(t, dtype)) != null) throw new IllegalArgumentException("tensor " + t.name() + " added twice");
        return this;
    }

    /** Bytes of tensor data added so far. */
    public long dataBytes() {
        long n = 0;
        for (Item i : items.values()) n += i.dtype.byteSize(i.tensor.values().length);
        return n;
    }

    public void write(Path file) {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Item i : items.values()) {
            long n = i.dtype.byteSize(i.tensor.values().length);
            ObjectNode t = header.putObject(i.tensor.name());
            t.put("dtype", i.dtype.name());
            ArrayNode shape = t.putArray("shape");
            for (long d : i.tensor.shape()) shape.add(d);
            t.putArray("data_offsets").add(offset).add(offset + n);
            offset += n;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, head);
            for (Item i : items.values()) writeFully(ch, ByteBuffer.wrap(TensorEncoding.toBytes(i.tensor.values(), i.dtype)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /**
     * Writes {@code tensors} as {@code shards} files {@code model-0000i-of-0000n.safetensors} (tensors
     * kept in order, split into runs of about equal size) and {@code model.safetensors.index.json}
     * mapping each tensor to its shard, as Hugging Face's {@code save_pretrained} does. Returns the index path.
     */
    public static Path writeSharded(Path dir, List<FloatTensor> tensors, TensorDType dtype, int shards) {
        if (shards < 1 || shards > tensors.size())
            throw new IllegalArgumentException("cannot split " + tensors.size() + " tensors into " + shards + " shards");
        long total = 0;
        for (FloatTensor t : tensors) total += dtype.byteSize(t.values().length);
        List<List<FloatTensor>> groups = new ArrayList<>();
        for (int s = 0; s < shards; s++) groups.add(new ArrayList<>());
        // fill shards in order; move on once a shard holds its share of the bytes, or when each
        // remaining shard needs one of the remaining tensors
        long seen = 0;
        int s = 0;
        for (int i = 0; i < tensors.size(); i++) {
            boolean full = seen * shards >= (s + 1) * total, mustMove = tensors.size() - i == shards - 1 - s;
            if (!groups.get(s).isEmpty() && s < shards - 1 && (full || mustMove)) s++;
            groups.get(s).add(tensors.get(i));
            seen += dtype.byteSize(tensors.get(i).values().length);
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode map = index.putObject("weight_map");
        for (s = 0; s < shards; s++) {
            String name = String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            for (FloatTensor t : groups.get(s)) {
                w.add(t, dtype);
                map.put(t.name(), name);
            }
            w.write(dir.resolve(name));
        }
        Path indexFile = dir.resolve(INDEX_FILE);
        try {
            Files.writeString(indexFile, index.toPrettyString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + indexFile, e);
        }
        return indexFile;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
