package jmlc.engine.format.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jmlc.engine.format.tensor.FloatTensor;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorEncoding;

/**
 * Writes GGUF files (version 3 by default, or 2: the layouts are the same) in the layout
 * {@link GgufFile} reads: header, metadata, tensor infos, padding to the alignment, then each
 * tensor's data padded to the alignment. Tensors are given in Hugging Face order
 * ({@code [rows, cols]}); the file gets their dimensions reversed ({@code ne = [cols, rows]}).
 * Q4_0 and Q8_0 are quantized as ggml's reference quantizers do ({@link jmlc.engine.format.tensor.BlockQuantizer}).
 *
 * <pre>
 * new GgufWriter().putString("general.architecture", "llama").putU32("llama.block_count", 2)
 *     .add("token_embd.weight", embed, TensorDType.Q8_0).write(path);
 * </pre>
 */
public final class GgufWriter {

    /** A metadata value with its GGUF type; for {@link GgufValueType#ARRAY} the value is an {@link Array}. */
    public record Typed(GgufValueType type, Object value) {
        public Typed {
            check(type, value);
        }
    }

    /**
     * An array value: {@code items} are Numbers, Booleans or Strings per {@code elementType}, or
     * {@link Array}s for nested arrays.
     */
    public record Array(GgufValueType elementType, List<?> items) {
        public Array {
            items = List.copyOf(items);
            for (Object o : items) check(elementType, o);
        }
    }

    private record Item(String name, FloatTensor tensor, TensorDType dtype) {}

    private final int version;
    private final Map<String, Typed> metadata = new LinkedHashMap<>();
    private final Map<String, Item> tensors = new LinkedHashMap<>();
    private long alignment = GgufFile.DEFAULT_ALIGNMENT;

    public GgufWriter() {
        this(3);
    }

    public GgufWriter(int version) {
        if (version != 2 && version != 3) throw new IllegalArgumentException("GGUF version 2 or 3, not " + version);
        this.version = version;
    }

    public GgufWriter put(String key, Typed value) {
        metadata.put(key, value);
        return this;
    }

    public GgufWriter put(String key, GgufValueType type, Object value) {
        return put(key, new Typed(type, value));
    }

    public GgufWriter putString(String key, String v) { return put(key, GgufValueType.STRING, v); }
    public GgufWriter putU32(String key, long v) { return put(key, GgufValueType.UINT32, v); }
    public GgufWriter putI32(String key, long v) { return put(key, GgufValueType.INT32, v); }
    public GgufWriter putU64(String key, long v) { return put(key, GgufValueType.UINT64, v); }
    public GgufWriter putF32(String key, double v) { return put(key, GgufValueType.FLOAT32, v); }
    public GgufWriter putBool(String key, boolean v) { return put(key, GgufValueType.BOOL, v); }

    public GgufWriter putArray(String key, GgufValueType elementType, List<?> items) {
        return put(key, GgufValueType.ARRAY, new Array(elementType, items));
    }

    /** Alignment of the data section and of each tensor; written as {@code general.alignment} unless 32. */
    public GgufWriter alignment(long a) {
        if (a <= 0 || (a & (a - 1)) != 0) throw new IllegalArgumentException("alignment must be a power of two, not " + a);
        alignment = a;
        return this;
    }

    /** Adds a tensor under its GGUF name, stored as {@code dtype}. */
    public GgufWriter add(String ggufName, FloatTensor t, TensorDType dtype) {
        long[] shape = t.shape();
        if (shape.length > GgufFile.MAX_DIMS) throw new IllegalArgumentException("tensor " + ggufName + ": GGUF holds at most " + GgufFile.MAX_DIMS + " dimensions");
        if (dtype.isQuantized() && (shape.length == 0 || shape[shape.length - 1] % dtype.blockSize() != 0))
            throw new IllegalArgumentException("tensor " + ggufName + ": " + dtype + " needs rows that are a multiple of " + dtype.blockSize() + ", shape is " + java.util.Arrays.toString(shape));
        if (tensors.putIfAbsent(ggufName, new Item(ggufName, t, dtype)) != null) throw new IllegalArgumentException("tensor " + ggufName + " added twice");
        return this;
    }

    public void write(Path file) {
        Map<String, Typed> md = new LinkedHashMap<>();
        if (alignment != GgufFile.DEFAULT_ALIGNMENT) md.put("general.alignment", new Typed(GgufValueType.UINT32, alignment));
        md.putAll(metadata);

        Out h = new Out();
        h.i32(GgufFile.MAGIC).i32(version).i64(tensors.size()).i64(md.size());
        md.forEach((k, v) -> h.string(k).i32(v.type().id()).value(v.type(), v.value()));
        long offset = 0;
        for (Item i : tensors.values()) {
            long[] shape = i.tensor.shape();
            h.string(i.name).i32(shape.length);
            for (int d = shape.length - 1; d >= 0; d--) h.i64(shape[d]);
            h.i32(GgmlType.of(i.dtype).id()).i64(offset);
            offset = pad(offset + i.dtype.byteSize(i.tensor.values().length));
        }
        byte[] header = h.bytes();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(header));
            writeFully(ch, ByteBuffer.allocate((int) (pad(header.length) - header.length)));
            for (Item i : tensors.values()) {
                byte[] data = TensorEncoding.toBytes(i.tensor.values(), i.dtype);
                writeFully(ch, ByteBuffer.wrap(data));
                writeFully(ch, ByteBuffer.allocate((int) (pad(data.length) - data.length)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private long pad(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static void check(GgufValueType type, Object v) {
        boolean ok = switch (type) {
            case UINT8 -> v instanceof Number n && n.longValue() >= 0 && n.longValue() <= 0xFF;
            case INT8 -> v instanceof Number n && n.longValue() >= Byte.MIN_VALUE && n.longValue() <= Byte.MAX_VALUE;
            case UINT16 -> v instanceof Number n && n.longValue() >= 0 && n.longValue() <= 0xFFFF;
            case INT16 -> v instanceof Number n && n.longValue() >= Short.MIN_VALUE && n.longValue() <= Short.MAX_VALUE;
            case UINT32 -> v instanceof Number n && n.longValue() >= 0 && n.longValue() <= 0xFFFF_FFFFL;
            case INT32 -> v instanceof Number n && n.longValue() >= Integer.MIN_VALUE && n.longValue() <= Integer.MAX_VALUE;
            case UINT64 -> v instanceof Number n && n.longValue() >= 0;
            case INT64 -> v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte;
            case FLOAT32, FLOAT64 -> v instanceof Number;
            case BOOL -> v instanceof Boolean;
            case STRING -> v instanceof String;
            case ARRAY -> v instanceof Array;
        };
        if (!ok) throw new IllegalArgumentException("not a GGUF " + type + " value: " + v + (v == null ? "" : " (" + v.getClass().getSimpleName() + ")"));
    }

    /** A little-endian byte sink for the header. */
    private static final class Out {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        Out i8(long v) { out.write((int) v); return this; }
        Out i16(long v) { return put(scratch.clear().putShort((short) v)); }
        Out i32(long v) { return put(scratch.clear().putInt((int) v)); }
        Out i64(long v) { return put(scratch.clear().putLong(v)); }

        Out string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            out.writeBytes(b);
            return this;
        }

        Out value(GgufValueType type, Object v) {
            return switch (type) {
                case UINT8, INT8 -> i8(((Number) v).longValue());
                case UINT16, INT16 -> i16(((Number) v).longValue());
                case UINT32, INT32 -> i32(((Number) v).longValue());
                case UINT64, INT64 -> i64(((Number) v).longValue());
                case FLOAT32 -> i32(Float.floatToRawIntBits(((Number) v).floatValue()));
                case FLOAT64 -> i64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
                case BOOL -> i8((Boolean) v ? 1 : 0);
                case STRING -> string((String) v);
                case ARRAY -> {
                    Array a = (Array) v;
                    i32(a.elementType().id()).i64(a.items().size());
                    for (Object o : a.items()) value(a.elementType(), o);
                    yield this;
                }
            };
        }

        private Out put(ByteBuffer b) {
            out.write(b.array(), 0, b.position());
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
