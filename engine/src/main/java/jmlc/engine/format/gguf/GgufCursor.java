package jmlc.engine.format.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import jmlc.engine.format.tensor.ModelFormatException;

/**
 * Reads little-endian GGUF fields from a mapped file, checking every read against the bytes left,
 * so a truncated or corrupt file gives a {@link ModelFormatException} naming what was being read
 * and where, never an out-of-bounds access or a huge allocation.
 */
final class GgufCursor {
    /** Longest string the reader accepts (real GGUF strings, chat templates included, are far shorter). */
    static final long MAX_STRING_BYTES = 64L << 20;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final Path file;
    private final MemorySegment bytes;
    private long pos;

    GgufCursor(Path file, MemorySegment bytes) {
        this.file = file;
        this.bytes = bytes;
    }

    long position() {
        return pos;
    }

    long remaining() {
        return bytes.byteSize() - pos;
    }

    /** Fails unless {@code n} more bytes exist; {@code what} says what they would hold. */
    void need(long n, String what) {
        if (n < 0 || n > remaining())
            throw new ModelFormatException(file, "truncated: " + what + " needs " + (n < 0 ? Long.toUnsignedString(n) : n) + " bytes at offset " + pos
                    + ", but the file has " + remaining() + " bytes left (" + bytes.byteSize() + " in all)");
    }

    int u8(String what) {
        need(1, what);
        return bytes.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
    }

    byte i8(String what) {
        need(1, what);
        return bytes.get(ValueLayout.JAVA_BYTE, pos++);
    }

    short i16(String what) {
        need(2, what);
        short v = bytes.get(U16, pos);
        pos += 2;
        return v;
    }

    int i32(String what) {
        need(4, what);
        int v = bytes.get(U32, pos);
        pos += 4;
        return v;
    }

    long u32(String what) {
        return Integer.toUnsignedLong(i32(what));
    }

    long i64(String what) {
        need(8, what);
        long v = bytes.get(U64, pos);
        pos += 8;
        return v;
    }

    float f32(String what) {
        need(4, what);
        float v = bytes.get(F32, pos);
        pos += 4;
        return v;
    }

    double f64(String what) {
        need(8, what);
        double v = bytes.get(F64, pos);
        pos += 8;
        return v;
    }

    /** A u64 count or size that must fit a signed long. */
    long u64(String what) {
        long start = pos;
        long v = i64(what);
        if (v < 0) throw new ModelFormatException(file, what + " at offset " + start + " is " + Long.toUnsignedString(v) + ", too large for any file");
        return v;
    }

    /** gguf_string_t: u64 length, then UTF-8 bytes. */
    String string(String what) {
        long n = skipString(what);
        return new String(bytes.asSlice(pos - n, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /** Moves past a gguf_string_t, checking its length; returns the length (its bytes end at the new position). */
    long skipString(String what) {
        long start = pos;
        long n = u64(what + " (string length)");
        if (n > MAX_STRING_BYTES)
            throw new ModelFormatException(file, what + " at offset " + start + ": string length " + n + " exceeds the reader's limit of " + MAX_STRING_BYTES + " bytes");
        need(n, what + " (" + n + "-byte string)");
        pos += n;
        return n;
    }

    /** The next {@code n} bytes, copied; {@code n} was checked against the bytes left and an int. */
    byte[] bytes(int n, String what) {
        need(n, what);
        byte[] b = bytes.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
        pos += n;
        return b;
    }

    /** Copies {@code n} bytes from {@code from} (an earlier position) into {@code out} at {@code at}. */
    void copy(long from, byte[] out, int at, int n) {
        MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, from, out, at, n);
    }

    void skipTo(long p) {
        if (p < pos || p > bytes.byteSize())
            throw new ModelFormatException(file, "truncated: padding to offset " + p + " runs past the end of the file (" + bytes.byteSize() + " bytes)");
        pos = p;
    }
}
