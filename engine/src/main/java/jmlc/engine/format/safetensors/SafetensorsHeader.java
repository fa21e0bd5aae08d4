package jmlc.engine.format.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jmlc.engine.format.tensor.Interrupts;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorView;

/**
 * The header of a safetensors file (https://huggingface.co/docs/safetensors), parsed and checked
 * against the file's size:
 * <pre>
 * u64 N (little-endian)          header length in bytes
 * N bytes of UTF-8 JSON          {"name": {"dtype": "F16", "shape": [rows, cols], "data_offsets": [begin, end]},
 *                                 ..., "__metadata__": {"format": "pt"}}  (starts with '{', may end in spaces)
 * data                           offsets are relative to here (byte 8 + N)
 * </pre>
 * As the reference reader ({@code Metadata::validate} and {@code read_metadata} in safetensors'
 * lib.rs) requires, the tensors sorted by offset tile the data section exactly: the first begins
 * at 0, each begins where the one before ends, the last ends at the end of the file. So a header
 * length that is off by a byte (the JSON, space-padded, would still parse) cannot shift every
 * tensor by a byte.
 *
 * @param dataStart byte offset of the data section (8 + N)
 * @param tensors   in header order
 */
public record SafetensorsHeader(Path file, long dataStart, Map<String, Entry> tensors, Map<String, String> metadata) {

    private static final String NOT_SAFETENSORS = "not a safetensors file: expected an 8-byte header length, then a JSON object starting with '{'";

    /** The reference implementation's limit on N. */
    public static final long MAX_HEADER_BYTES = 100_000_000;

    /** One tensor: bytes {@code [dataStart + begin, dataStart + end)} of the file. */
    public record Entry(String name, TensorDType dtype, long[] shape, long begin, long end) {}

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY, DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    public static SafetensorsHeader parse(Path file, MemorySegment bytes) {
        long size = bytes.byteSize();
        if (size < 8) throw new ModelFormatException(file, "file is " + size + " bytes, too short for a safetensors header (8-byte length, then JSON)");
        long n = bytes.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        // the JSON starts with '{': without one, the first 8 bytes are no header length worth showing
        boolean jsonFollows = size > 8 && bytes.get(ValueLayout.JAVA_BYTE, 8) == '{';
        if (!jsonFollows) throw new ModelFormatException(file, NOT_SAFETENSORS);
        if (n < 2 || n > MAX_HEADER_BYTES)
            throw new ModelFormatException(file, "safetensors header length is " + Long.toUnsignedString(n)
                    + " bytes, expected 2.." + MAX_HEADER_BYTES + ": a corrupt safetensors file");
        if (8 + n > size)
            throw new ModelFormatException(file, "safetensors header claims " + n + " bytes but the file has only " + (size - 8)
                    + " after the length field: the file is truncated");
        byte[] json = bytes.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(file, "safetensors header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read the safetensors header: " + e, e);
        }
        if (root == null || !root.isObject())
            throw new ModelFormatException(file, "safetensors header must be a JSON object, found " + (root == null ? "nothing" : root.getNodeType()));

        long dataStart = 8 + n, dataBytes = size - dataStart;
        Map<String, Entry> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (var field : root.properties()) {
            if (tensors.size() % 4096 == 0) Interrupts.check(file, "reading the safetensors header of");
            String name = field.getKey();
            JsonNode v = field.getValue();
            if (name.equals("__metadata__")) {
                readMetadata(file, v, metadata);
                continue;
            }
            Entry e = entry(file, name, v);
            if (e.end > dataBytes)
                throw new ModelFormatException(file, "tensor " + name + ": data_offsets [" + e.begin + ", " + e.end + "] run past the end of the data section ("
                        + dataBytes + " bytes): the file is truncated");
            tensors.put(name, e);
        }
        checkTiling(file, tensors.values(), dataBytes);
        return new SafetensorsHeader(file, dataStart, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    /** Views every tensor in {@code bytes} (the whole mapped file this header was parsed from). */
    public Map<String, TensorView> views(MemorySegment bytes) {
        Map<String, TensorView> m = new LinkedHashMap<>();
        for (Entry e : tensors.values())
            m.put(e.name, new TensorView(e.name, e.dtype, e.shape, bytes.asSlice(dataStart + e.begin, e.end - e.begin), file));
        return m;
    }

    private static Entry entry(Path file, String name, JsonNode v) {
        if (!v.isObject()) throw new ModelFormatException(file, "tensor " + name + ": expected an object {dtype, shape, data_offsets}, found " + v.getNodeType());
        JsonNode dt = v.get("dtype"), sh = v.get("shape"), off = v.get("data_offsets");
        if (dt == null || !dt.isTextual()) throw new ModelFormatException(file, "tensor " + name + ": 'dtype' must be a string, found " + describe(dt));
        if (sh == null || !sh.isArray()) throw new ModelFormatException(file, "tensor " + name + ": 'shape' must be an array of sizes, found " + describe(sh));
        if (off == null || !off.isArray() || off.size() != 2)
            throw new ModelFormatException(file, "tensor " + name + ": 'data_offsets' must be [begin, end], found " + describe(off));
        TensorDType dtype = dtype(file, name, dt.asText());
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) shape[i] = nonNegative(file, name, "shape[" + i + "]", sh.get(i));
        long begin = nonNegative(file, name, "data_offsets[0]", off.get(0));
        long end = nonNegative(file, name, "data_offsets[1]", off.get(1));
        long numel = TensorView.numel(shape);
        long need = numel < 0 ? -1 : dtype.byteSize(numel);
        if (need < 0) throw new ModelFormatException(file, "tensor " + name + ": shape " + TensorView.shapeString(shape) + " is too large (element count overflows)");
        if (end < begin) throw new ModelFormatException(file, "tensor " + name + ": data_offsets [" + begin + ", " + end + "] end before they begin");
        if (end - begin != need)
            throw new ModelFormatException(file, "tensor " + name + ": data_offsets [" + begin + ", " + end + "] span " + (end - begin)
                    + " bytes, but shape " + TensorView.shapeString(shape) + " of " + dtype + " needs " + need);
        return new Entry(name, dtype, shape, begin, end);
    }

    /** The dtypes jmlc reads; the others the format defines get a clear error. */
    private static TensorDType dtype(Path file, String name, String s) {
        return switch (s) {
            case "F32" -> TensorDType.F32;
            case "F16" -> TensorDType.F16;
            case "BF16" -> TensorDType.BF16;
            default -> throw new ModelFormatException(file, "tensor " + name + ": unsupported dtype '" + s + "' (supported: F32, F16, BF16)");
        };
    }

    private static long nonNegative(Path file, String name, String what, JsonNode n) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0)
            throw new ModelFormatException(file, "tensor " + name + ": " + what + " must be a non-negative integer, found " + describe(n));
        return n.asLong();
    }

    private static void readMetadata(Path file, JsonNode v, Map<String, String> out) {
        if (!v.isObject()) throw new ModelFormatException(file, "'__metadata__' must be an object of strings, found " + v.getNodeType());
        for (var f : v.properties()) {
            if (!f.getValue().isTextual())
                throw new ModelFormatException(file, "'__metadata__." + f.getKey() + "' must be a string, found " + describe(f.getValue()));
            out.put(f.getKey(), f.getValue().asText());
        }
    }

    /** The tensors, by offset, cover {@code [0, dataBytes)} with neither gaps nor overlaps. */
    private static void checkTiling(Path file, Iterable<Entry> entries, long dataBytes) {
        List<Entry> sorted = new ArrayList<>();
        for (Entry e : entries) sorted.add(e);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long end = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin < end)
                throw new ModelFormatException(file, "tensors " + previous.name + " [" + previous.begin + ", " + previous.end + ") and " + e.name + " [" + e.begin + ", " + e.end
                        + ") overlap in the data section");
            if (e.begin > end)
                throw new ModelFormatException(file, "tensor " + e.name + ": data_offsets [" + e.begin + ", " + e.end + "] should begin at " + end
                        + (previous == null ? ", the start of the data section" : ", where " + previous.name + " ends") + ": the data section has a gap");
            end = e.end;
            previous = e;
        }
        if (end != dataBytes)
            throw new ModelFormatException(file, "the data section has " + dataBytes + " bytes, but the tensors' data ends at " + end
                    + ": the header length (the first 8 bytes) or the data is wrong");
    }

    private static String describe(JsonNode n) {
        if (n == null) return "nothing";
        String s = n.toString();
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
}
