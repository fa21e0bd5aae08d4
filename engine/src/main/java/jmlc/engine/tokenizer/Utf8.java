package jmlc.engine.tokenizer;

/**
 * UTF-8 decoding as Rust's {@code String::from_utf8_lossy} does it (each maximal invalid
 * subpart becomes one U+FFFD), and the length of an incomplete sequence at the end, which a
 * stream decoder holds back until the next token completes it.
 */
final class Utf8 {
    private Utf8() {}

    static final char REPLACEMENT = '\uFFFD';

    static String decodeLossy(byte[] b, int from, int to) {
        StringBuilder out = new StringBuilder(to - from);
        int i = from;
        while (i < to) {
            int n = validSequenceLength(b, i, to);
            if (n > 0) {
                out.appendCodePoint(codePoint(b, i, n));
                i += n;
            } else {
                out.append(REPLACEMENT);
                i += Math.max(1, -n);
            }
        }
        return out.toString();
    }

    static String decodeLossy(byte[] b) {
        return decodeLossy(b, 0, b.length);
    }

    /** Whether the bytes are well-formed UTF-8 (Rust's {@code String::from_utf8} succeeds). */
    static boolean isValid(byte[] b) {
        for (int i = 0; i < b.length; ) {
            int n = validSequenceLength(b, i, b.length);
            if (n <= 0) return false;
            i += n;
        }
        return true;
    }

    /**
     * The length of the well-formed sequence at {@code i} (positive), or minus the length of the
     * maximal subpart of an ill-formed one (Unicode's "U+FFFD substitution of maximal subparts").
     */
    private static int validSequenceLength(byte[] b, int i, int to) {
        int b0 = b[i] & 0xFF;
        if (b0 < 0x80) return 1;
        int need;
        int lo = 0x80, hi = 0xBF; // allowed range of the second byte
        if (b0 >= 0xC2 && b0 <= 0xDF) need = 1;
        else if (b0 >= 0xE0 && b0 <= 0xEF) {
            need = 2;
            if (b0 == 0xE0) lo = 0xA0;
            if (b0 == 0xED) hi = 0x9F;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            need = 3;
            if (b0 == 0xF0) lo = 0x90;
            if (b0 == 0xF4) hi = 0x8F;
        } else return -1;
        for (int k = 1; k <= need; k++) {
            if (i + k >= to) return -k;
            int bk = b[i + k] & 0xFF;
            boolean ok = k == 1 ? bk >= lo && bk <= hi : bk >= 0x80 && bk <= 0xBF;
            if (!ok) return -k;
        }
        return need + 1;
    }

    private static int codePoint(byte[] b, int i, int n) {
        int b0 = b[i] & 0xFF;
        if (n == 1) return b0;
        int cp = b0 & (0xFF >> (n + 1));
        for (int k = 1; k < n; k++) cp = (cp << 6) | (b[i + k] & 0x3F);
        return cp;
    }

    /**
     * How many bytes at the end of {@code b} start a sequence that more bytes could still
     * complete (0 if the end is complete or cannot be completed).
     */
    static int incompleteTail(byte[] b) {
        for (int back = 1; back <= Math.min(3, b.length); back++) {
            int i = b.length - back;
            int lead = b[i] & 0xFF;
            if (lead >= 0x80 && lead <= 0xBF) continue; // continuation byte: look further back
            int n = validSequenceLength(b, i, b.length);
            return n == -back ? back : 0;
        }
        return 0;
    }
}
