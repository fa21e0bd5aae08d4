package jmlc.engine.format.gguf;

/**
 * Types of GGUF metadata values ({@code gguf_metadata_value_type} in ggml's docs/gguf.md), with
 * the Java type the reader returns for each: every integer type is a {@link Long}, f32 and f64
 * are {@link Double}, bool is {@link Boolean}, string is {@link String}, array is a
 * {@link java.util.List} of those.
 */
public enum GgufValueType {
    UINT8(0, 1),
    INT8(1, 1),
    UINT16(2, 2),
    INT16(3, 2),
    UINT32(4, 4),
    INT32(5, 4),
    FLOAT32(6, 4),
    BOOL(7, 1),
    /** u64 length, then that many UTF-8 bytes, no terminator. */
    STRING(8, 8),
    /** u32 element type, u64 count, then the elements. */
    ARRAY(9, 12),
    UINT64(10, 8),
    INT64(11, 8),
    FLOAT64(12, 8);

    private final int id;
    private final int minBytes;

    GgufValueType(int id, int minBytes) {
        this.id = id;
        this.minBytes = minBytes;
    }

    public int id() {
        return id;
    }

    /** Fewest bytes a value of this type takes in the file (its size, for fixed-size types). */
    public int minBytes() {
        return minBytes;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** The type with this id, or null. */
    public static GgufValueType of(int id) {
        for (GgufValueType t : values()) if (t.id == id) return t;
        return null;
    }
}
