package jmlc.engine.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** A model file's bytes, patched in place by tests that make corrupt or hostile files from valid ones. */
public final class FileBytes {
    public final Path file;
    public final byte[] bytes;

    private FileBytes(Path file, byte[] bytes) {
        this.file = file;
        this.bytes = bytes;
    }

    public static FileBytes of(Path file) throws IOException {
        return new FileBytes(file, Files.readAllBytes(file));
    }

    /** Offset just past the first occurrence of {@code s} (a GGUF key or tensor name). */
    public int after(String s) {
        byte[] needle = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + needle.length <= bytes.length; i++)
            if (Arrays.equals(bytes, i, i + needle.length, needle, 0, needle.length)) return i + needle.length;
        throw new AssertionError(s + " not in " + file);
    }

    /** Writes {@code v} little-endian as a u32 ({@code size} 4) or u64 (8) at {@code at}, and saves. */
    public FileBytes patch(int at, long v, int size) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (size == 4) b.putInt(at, (int) v);
        else b.putLong(at, v);
        return save();
    }

    /** The u32 value of a GGUF metadata key of type UINT32 is set to {@code v}. */
    public FileBytes patchU32Key(String key, long v) throws IOException {
        return patch(after(key) + 4, v, 4); // key, then the u32 value type, then the value
    }

    public long u64(int at) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(at);
    }

    public FileBytes save() throws IOException {
        Files.write(file, bytes);
        return this;
    }
}
