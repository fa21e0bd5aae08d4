package jmlc.engine.format.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * A GGUF metadata array kept as the file stores it, so that it costs about what it takes in the
 * file: fixed-size elements little-endian back to back in one byte array; strings as their UTF-8
 * bytes back to back with where each starts; nested arrays as a list of arrays. Elements are made
 * into the reader's Java types only when read ({@link GgufValueType}: every integer a {@link Long},
 * floats a {@link Double}, ...). Boxing every element at parse time made a 336 MB file of arrays
 * take 6.5 GB of heap.
 */
public final class GgufArray extends AbstractList<Object> implements RandomAccess {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final GgufValueType elementType;
    private final int size;
    /** Fixed-size elements, or the strings' bytes; empty for nested arrays. */
    private final byte[] bytes;
    private final MemorySegment data;
    /** Strings only: element i is {@code data[starts[i], starts[i + 1])}. */
    private final int[] starts;
    /** Arrays of arrays only. */
    private final List<GgufArray> nested;

    private GgufArray(GgufValueType elementType, int size, byte[] data, int[] starts, List<GgufArray> nested) {
        this.elementType = elementType;
        this.size = size;
        this.bytes = data;
        this.data = MemorySegment.ofArray(data);
        this.starts = starts;
        this.nested = nested;
    }

    /** {@code n} elements of a fixed-size type, {@code bytes} holding them as the file does. */
    static GgufArray fixed(GgufValueType type, int n, byte[] bytes) {
        if (type == GgufValueType.STRING || type == GgufValueType.ARRAY || (long) n * type.minBytes() != bytes.length)
            throw new IllegalArgumentException(n + " " + type + " values in " + bytes.length + " bytes");
        return new GgufArray(type, n, bytes, null, null);
    }

    /** Strings: {@code bytes} holds them back to back, string i at {@code [starts[i], starts[i + 1])}. */
    static GgufArray strings(byte[] bytes, int[] starts) {
        return new GgufArray(GgufValueType.STRING, starts.length - 1, bytes, starts, null);
    }

    static GgufArray arrays(List<GgufArray> arrays) {
        return new GgufArray(GgufValueType.ARRAY, arrays.size(), new byte[0], null, List.copyOf(arrays));
    }

    public GgufValueType elementType() {
        return elementType;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Object get(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("element " + i + " of a GGUF array of " + size);
        return switch (elementType) {
            case UINT8 -> (long) (data.get(ValueLayout.JAVA_BYTE, i) & 0xFF);
            case INT8 -> (long) data.get(ValueLayout.JAVA_BYTE, i);
            case UINT16 -> (long) (data.get(I16, 2L * i) & 0xFFFF);
            case INT16 -> (long) data.get(I16, 2L * i);
            case UINT32 -> Integer.toUnsignedLong(data.get(I32, 4L * i));
            case INT32 -> (long) data.get(I32, 4L * i);
            case UINT64, INT64 -> data.get(I64, 8L * i); // UINT64 values were checked to fit a long
            // the shortest decimal that reads back as this float: 1e-5 stored as f32 reads as 1e-5
            case FLOAT32 -> Double.parseDouble(Float.toString(data.get(F32, 4L * i)));
            case FLOAT64 -> data.get(F64, 8L * i);
            case BOOL -> data.get(ValueLayout.JAVA_BYTE, i) == 1;
            case STRING -> new String(bytes, starts[i], starts[i + 1] - starts[i], StandardCharsets.UTF_8);
            case ARRAY -> nested.get(i);
        };
    }

    @Override
    public String toString() {
        return "GgufArray[" + size + " " + elementType + "]";
    }
}
