package jmlc.engine.format.gguf;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jmlc.engine.format.tensor.Interrupts;
import jmlc.engine.format.tensor.ModelFormatException;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorView;

/**
 * The structure of a GGUF file, versions 2 and 3 (ggml docs/gguf.md), parsed from its mapping:
 * <pre>
 * u32 magic "GGUF", u32 version (2 or 3: identical little-endian layouts; v1 used u32 counts)
 * u64 tensor_count, u64 metadata_kv_count
 * metadata_kv_count × { string key, u32 value_type, value }
 * tensor_count × { string name, u32 n_dims (≤ 4), u64 ne[n_dims] (ne[0] varies fastest),
 *                  u32 ggml_type, u64 offset (relative to the data section, a multiple of alignment) }
 * padding to general.alignment (default 32), then the data section
 * </pre>
 * Counts and lengths are checked against the bytes left before anything is allocated.
 */
public record GgufFile(Path file, int version, Map<String, Object> metadata, List<TensorInfo> tensors, long alignment, long dataStart) {

    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    public static final long DEFAULT_ALIGNMENT = 32;
    /** Tensors a file may hold: real Llama-family files hold hundreds; this bounds the heap tensor infos can take. */
    static final long MAX_TENSORS = 1L << 20;
    /** GGML_MAX_DIMS. */
    public static final int MAX_DIMS = 4;
    /** Nested arrays deeper than this are refused (no real file nests arrays; ggml's reader refuses any nesting). */
    static final int MAX_ARRAY_DEPTH = 8;
    /** Elements per array the reader accepts: vocabularies are ~10^5; this bounds the heap a corrupt count can claim. */
    static final long MAX_ARRAY_LENGTH = 1L << 24;
    /**
     * Bytes all metadata arrays of a file may take together: the largest real vocabularies (262k
     * tokens with scores and types, ~10^5 merges) take under 16 MB; arrays are kept as stored
     * ({@link GgufArray}), so this bounds the heap a header can make the reader use.
     */
    static final long MAX_ARRAY_BYTES = 256L << 20;

    /**
     * One tensor's entry.
     *
     * @param ne     ggml dimensions, fastest-varying first: the Hugging Face shape reversed
     * @param offset from the start of the data section
     */
    public record TensorInfo(String name, long[] ne, GgmlType type, long offset) {
        /** Hugging Face order: {@code [rows, cols]} for a matrix. */
        public long[] shape() {
            long[] s = new long[ne.length];
            for (int i = 0; i < ne.length; i++) s[i] = ne[ne.length - 1 - i];
            return s;
        }

        public long byteSize() {
            return type.dtype().byteSize(TensorView.numel(ne));
        }
    }

    public static GgufFile parse(Path file, MemorySegment bytes) {
        GgufCursor c = new GgufCursor(file, bytes);
        if (bytes.byteSize() < 4) throw new ModelFormatException(file, "file is " + bytes.byteSize() + " bytes, too short for a GGUF header");
        int magic = c.i32("magic");
        if (magic != MAGIC)
            throw new ModelFormatException(file, "not a GGUF file: magic is " + printable(magic) + ", expected \"GGUF\"");
        int version = c.i32("version");
        if (version == 1) throw new ModelFormatException(file, "GGUF version 1 is not supported (expected 2 or 3): convert the model again with a current llama.cpp");
        if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3)
            throw new ModelFormatException(file, "big-endian GGUF (version " + Integer.reverseBytes(version) + ") is not supported: expected a little-endian file");
        if (version != 2 && version != 3) throw new ModelFormatException(file, "GGUF version " + Integer.toUnsignedString(version) + " is not supported (expected 2 or 3)");
        long tensorCount = c.u64("tensor_count");
        long kvCount = c.u64("metadata_kv_count");
        // the smallest kv is an empty key (8) + type (4) + a u8 (1); the smallest tensor info is
        // an empty name (8) + n_dims (4) + type (4) + offset (8)
        if (kvCount > c.remaining() / 13)
            throw new ModelFormatException(file, "metadata_kv_count is " + kvCount + ", but the " + c.remaining() + " bytes left hold at most " + c.remaining() / 13 + " entries");
        if (tensorCount > MAX_TENSORS)
            throw new ModelFormatException(file, "tensor_count is " + tensorCount + ", over the reader's limit of " + MAX_TENSORS + " (real models hold hundreds)");
        if (tensorCount > c.remaining() / 24)
            throw new ModelFormatException(file, "tensor_count is " + tensorCount + ", but the " + c.remaining() + " bytes left hold at most " + c.remaining() / 24 + " tensor infos");

        Map<String, Object> metadata = new LinkedHashMap<>();
        long[] arrayBytes = {0}; // all arrays' bytes so far, against MAX_ARRAY_BYTES
        for (long i = 0; i < kvCount; i++) {
            Interrupts.check(file, "reading the GGUF header of");
            String key = c.string("key of metadata entry " + i);
            GgufValueType type = valueType(c, c.i32("type of key '" + key + "'"), "key '" + key + "'");
            Object value = type == GgufValueType.ARRAY ? array(c, "key '" + key + "'", 0, arrayBytes) : value(c, type, "key '" + key + "'");
            if (metadata.put(key, value) != null) throw new ModelFormatException(file, "duplicate metadata key '" + key + "'");
        }

        List<TensorInfo> tensors = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            if ((i & 0xFFF) == 0) Interrupts.check(file, "reading the GGUF tensor infos of");
            TensorInfo t = tensorInfo(c, i);
            if (!names.add(t.name)) throw new ModelFormatException(file, "duplicate tensor name " + t.name);
            tensors.add(t);
        }

        long alignment = alignment(file, metadata);
        long headerEnd = c.position();
        long dataStart = (headerEnd + alignment - 1) / alignment * alignment;
        c.skipTo(Math.min(dataStart, bytes.byteSize()));
        checkPlacement(file, bytes, tensors, alignment, headerEnd, dataStart, tensorCount);
        return new GgufFile(file, version, Collections.unmodifiableMap(metadata), List.copyOf(tensors), alignment, dataStart);
    }

    /** A view of each tensor, keyed by its GGUF name, with its shape in Hugging Face order. */
    public Map<String, TensorView> views(MemorySegment bytes) {
        Map<String, TensorView> m = new LinkedHashMap<>();
        for (TensorInfo t : tensors)
            m.put(t.name, new TensorView(t.name, t.type.dtype(), t.shape(), bytes.asSlice(dataStart + t.offset, t.byteSize()), file));
        return m;
    }

    private static TensorInfo tensorInfo(GgufCursor c, long i) {
        String name = c.string("name of tensor " + i);
        long nDims = c.u32("n_dims of tensor " + name);
        if (nDims > MAX_DIMS) throw new ModelFormatException(c.file, "tensor " + name + ": n_dims is " + nDims + ", expected at most " + MAX_DIMS);
        long[] ne = new long[(int) nDims];
        for (int d = 0; d < nDims; d++) ne[d] = c.u64("dimension " + d + " of tensor " + name);
        int typeId = c.i32("type of tensor " + name);
        long offset = c.u64("offset of tensor " + name);
        GgmlType type = GgmlType.of(typeId);
        if (type == null || type.dtype() == null)
            throw new ModelFormatException(c.file, "tensor " + name + ": unsupported ggml type " + (type == null ? "id " + Integer.toUnsignedString(typeId) : type.name() + " (id " + typeId + ")")
                    + "; jmlc reads " + GgmlType.supported());
        long numel = TensorView.numel(ne);
        if (numel < 0) throw new ModelFormatException(c.file, "tensor " + name + ": dimensions " + TensorView.shapeString(ne) + " overflow the element count");
        TensorDType dt = type.dtype();
        if (ne.length > 0 && ne[0] % dt.blockSize() != 0)
            throw new ModelFormatException(c.file, "tensor " + name + ": rows of " + ne[0] + " values are not a whole number of " + type.name() + " blocks of " + dt.blockSize());
        if (dt.byteSize(numel) < 0) throw new ModelFormatException(c.file, "tensor " + name + ": dimensions " + TensorView.shapeString(ne) + " overflow the byte size");
        return new TensorInfo(name, ne, type, offset);
    }

    private static GgufValueType valueType(GgufCursor c, int id, String what) {
        GgufValueType t = GgufValueType.of(id);
        if (t == null) throw new ModelFormatException(c.file, what + ": unknown value type " + Integer.toUnsignedString(id) + " (expected 0..12)");
        return t;
    }

    /** A single value of a type other than ARRAY, as its Java type. */
    private static Object value(GgufCursor c, GgufValueType type, String what) {
        return switch (type) {
            case UINT8 -> (long) c.u8(what);
            case INT8 -> (long) c.i8(what);
            case UINT16 -> (long) (c.i16(what) & 0xFFFF);
            case INT16 -> (long) c.i16(what);
            case UINT32 -> c.u32(what);
            case INT32 -> (long) c.i32(what);
            case UINT64 -> c.u64(what);
            case INT64 -> c.i64(what);
            // the shortest decimal that reads back as this float: 1e-5 stored as f32 reads as 1e-5
            case FLOAT32 -> Double.parseDouble(Float.toString(c.f32(what)));
            case FLOAT64 -> c.f64(what);
            case BOOL -> {
                int b = c.u8(what);
                if (b > 1) throw new ModelFormatException(c.file, what + ": bool byte is " + b + ", expected 0 or 1");
                yield b == 1;
            }
            case STRING -> c.string(what);
            case ARRAY -> throw new IllegalArgumentException("arrays are read by array()");
        };
    }

    /**
     * An array value, kept as stored ({@link GgufArray}); its bytes count against
     * {@code arrayBytes[0]}, the header's total, which may not pass {@link #MAX_ARRAY_BYTES}.
     */
    private static GgufArray array(GgufCursor c, String what, int depth, long[] arrayBytes) {
        if (depth >= MAX_ARRAY_DEPTH) throw new ModelFormatException(c.file, what + ": arrays nested more than " + MAX_ARRAY_DEPTH + " deep");
        GgufValueType elem = valueType(c, c.i32(what + " (array element type)"), what);
        long n = c.u64(what + " (array length)");
        if (n > MAX_ARRAY_LENGTH) throw new ModelFormatException(c.file, what + ": array of " + n + " elements exceeds the reader's limit of " + MAX_ARRAY_LENGTH);
        if (n > c.remaining() / elem.minBytes())
            throw new ModelFormatException(c.file, "truncated: " + what + " is an array of " + n + " " + elem + " values (at least " + n * elem.minBytes()
                    + " bytes), but the file has " + c.remaining() + " bytes left");
        int count = (int) n;
        long start = c.position();
        GgufArray array = switch (elem) {
            case STRING -> strings(c, what, count);
            case ARRAY -> {
                List<GgufArray> inner = new ArrayList<>(Math.min(count, 1 << 16));
                for (int i = 0; i < count; i++) inner.add(array(c, what + "[" + i + "]", depth + 1, arrayBytes));
                yield GgufArray.arrays(inner);
            }
            default -> fixed(c, what, elem, count);
        };
        arrayBytes[0] += c.position() - start;
        if (depth == 0 && arrayBytes[0] > MAX_ARRAY_BYTES)
            throw new ModelFormatException(c.file, what + ": the metadata arrays up to here take " + arrayBytes[0] + " bytes, over the reader's limit of "
                    + MAX_ARRAY_BYTES + " (real vocabularies take a few MB)");
        return array;
    }

    private static GgufArray fixed(GgufCursor c, String what, GgufValueType elem, int count) {
        byte[] raw = c.bytes(count * elem.minBytes(), what + " (" + count + " " + elem + " values)");
        GgufArray a = GgufArray.fixed(elem, count, raw);
        // as for single values: bools are 0 or 1, UINT64 values fit a signed long
        if (elem == GgufValueType.BOOL)
            for (int i = 0; i < count; i++)
                if ((raw[i] & 0xFF) > 1) throw new ModelFormatException(c.file, what + "[" + i + "]: bool byte is " + (raw[i] & 0xFF) + ", expected 0 or 1");
        if (elem == GgufValueType.UINT64)
            for (int i = 0; i < count; i++)
                if ((Long) a.get(i) < 0) throw new ModelFormatException(c.file, what + "[" + i + "] is " + Long.toUnsignedString((Long) a.get(i)) + ", too large for any file");
        return a;
    }

    /** Strings: one pass checks the lengths and notes where each string lies, then their bytes are copied into one array. */
    private static GgufArray strings(GgufCursor c, String what, int count) {
        long[] at = new long[count];
        long total = 0;
        for (int i = 0; i < count; i++) {
            if ((i & 0xFFFF) == 0) Interrupts.check(c.file, "reading the GGUF header of");
            long len = c.skipString(what + "[" + i + "]");
            at[i] = c.position() - len;
            total += len;
            if (total > Integer.MAX_VALUE - 16)
                throw new ModelFormatException(c.file, what + ": the strings of this array take more than 2 GiB, over the reader's limit");
        }
        byte[] bytes = new byte[(int) total];
        int[] starts = new int[count + 1];
        for (int i = 0; i < count; i++) {
            long end = i + 1 < count ? at[i + 1] - 8 : c.position(); // string i ends where string i+1's length field begins
            int len = (int) (end - at[i]);
            c.copy(at[i], bytes, starts[i], len);
            starts[i + 1] = starts[i] + len;
        }
        return GgufArray.strings(bytes, starts);
    }

    private static long alignment(Path file, Map<String, Object> metadata) {
        Object a = metadata.get("general.alignment");
        if (a == null) return DEFAULT_ALIGNMENT;
        if (!(a instanceof Long l) || l <= 0 || (l & (l - 1)) != 0)
            throw new ModelFormatException(file, "key 'general.alignment': expected a power of two, found " + a);
        return l;
    }

    /**
     * Where each tensor's data lies, as ggml's reader ({@code gguf_init_from_file_impl}) requires:
     * tensor i begins at the sum of the sizes before it, each padded to the alignment; and, checked
     * here beyond ggml, the data section ends with the last tensor (padded or not) and every padding
     * byte is zero, as the writers (gguf-py, ggml) write it. A type changed to a smaller one, an
     * alignment changed without moving the data, or a tensor_count one short then shows as a
     * misplaced tensor or as stray bytes, instead of tensors read from the wrong bytes.
     */
    private static void checkPlacement(Path file, MemorySegment bytes, List<TensorInfo> tensors, long alignment, long headerEnd, long dataStart, long tensorCount) {
        long fileSize = bytes.byteSize();
        // checked apart from each tensor's extent below: a tensor of no bytes lies inside the data section
        // only if the section itself starts inside the file
        if (!tensors.isEmpty() && dataStart > fileSize)
            throw new ModelFormatException(file, "the data section starts at byte " + dataStart + " (the tensor infos end at " + headerEnd + ", padded to the alignment "
                    + alignment + "), past the end of the file (" + fileSize + " bytes): the file is truncated");
        long headerPad = firstNonZero(bytes, headerEnd, Math.min(dataStart, fileSize));
        if (headerPad >= 0)
            throw new ModelFormatException(file, "byte " + headerPad + " of the padding after the tensor infos (bytes " + headerEnd + ".." + dataStart
                    + ") is not zero: tensor_count (" + tensorCount + ") is too small, or the header is corrupt");
        long dataBytes = Math.max(0, fileSize - dataStart);
        long expected = 0, end = 0;
        for (TensorInfo t : tensors) {
            long size = t.byteSize();
            if (t.offset > dataBytes || size > dataBytes - t.offset)
                throw new ModelFormatException(file, "tensor " + t.name + ": data [" + t.offset + ", " + (t.offset + size) + ") of the data section at " + dataStart
                        + " runs past the end of the file (" + fileSize + " bytes): the file is truncated");
            if (t.offset != expected)
                throw new ModelFormatException(file, "tensor " + t.name + ": offset " + t.offset + ", expected " + expected
                        + " (each tensor's data follows the one before it, padded to the alignment " + alignment + ", as ggml requires): "
                        + "a tensor's type, shape or offset, or general.alignment, is corrupt");
            end = t.offset + size;
            expected = (end + alignment - 1) / alignment * alignment;
            long pad = firstNonZero(bytes, dataStart + end, Math.min(dataStart + expected, fileSize));
            if (pad >= 0)
                throw new ModelFormatException(file, "tensor " + t.name + ": the padding after its data (byte " + (pad - dataStart) + " of the data section, in "
                        + end + ".." + expected + ") is not zero: the tensor's type or shape is wrong, so its data is longer than they say");
        }
        if (dataBytes != end && dataBytes != expected)
            throw new ModelFormatException(file, "the data section (from byte " + dataStart + ") has " + dataBytes + " bytes, but the tensors' data ends at " + end
                    + (expected != end ? " (" + expected + " padded)" : "") + ": tensor_count (" + tensorCount + ") is too small, or the file has stray bytes");
    }

    /** The offset of the first non-zero byte in {@code [from, to)}, or -1. */
    private static long firstNonZero(MemorySegment bytes, long from, long to) {
        for (long i = from; i < to; i++) if (bytes.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) != 0) return i;
        return -1;
    }

    private static String printable(int magic) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < 4; i++) {
            int ch = (magic >>> (8 * i)) & 0xFF;
            sb.append(ch >= 32 && ch < 127 ? String.valueOf((char) ch) : String.format("\\x%02x", ch));
        }
        return sb.append('"').toString();
    }
}
