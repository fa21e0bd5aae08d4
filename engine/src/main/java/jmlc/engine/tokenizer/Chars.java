package jmlc.engine.tokenizer;

/** Character classes as Rust's {@code char} methods define them (HF tokenizers is Rust). */
final class Chars {
    private Chars() {}

    /** Rust {@code char::is_whitespace}: the Unicode White_Space property (Java's isWhitespace differs, e.g. on U+00A0). */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    /** Rust {@code char::is_alphanumeric}: Alphabetic or Numeric (general categories Nd, Nl, No). */
    static boolean isAlphanumeric(int cp) {
        if (Character.isAlphabetic(cp)) return true;
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER || type == Character.OTHER_NUMBER;
    }

    /** HF added_vocabulary's word character, used by {@code single_word}: alphanumeric or '_'. */
    static boolean isWordChar(int cp) {
        return isAlphanumeric(cp) || cp == '_';
    }
}
