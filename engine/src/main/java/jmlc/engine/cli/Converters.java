package jmlc.engine.cli;

import jmlc.compiler.quant.QuantMode;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Option values picocli cannot parse by itself; their errors say what was expected. */
final class Converters {
    private Converters() {}

    /** {@code --quant q4f16_1}. */
    static final class Quant implements ITypeConverter<QuantMode> {
        @Override
        public QuantMode convert(String s) {
            try {
                return QuantMode.parse(s);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("expected one of " + QuantMode.names() + ", found '" + s + "'");
            }
        }
    }

    /** {@code --kv-cache i8}: f32, f16 or i8. */
    static final class KvCache implements ITypeConverter<jmlc.compiler.ir.DType> {
        @Override
        public jmlc.compiler.ir.DType convert(String s) {
            try {
                return jmlc.engine.api.LoadOptions.parseKvCache(s);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("expected f32, f16 or i8, found '" + s + "'");
            }
        }
    }

    /** {@code --budget 5m}: 90s, 5m, 1h30m, or seconds. */
    static final class Budget implements ITypeConverter<java.time.Duration> {
        @Override
        public java.time.Duration convert(String s) {
            try {
                return jmlc.engine.api.ModelTuning.parseBudget(s);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** {@code --tokens 1,450,4996}: token ids, comma-separated (spaces allowed), or a JSON array. */
    record TokenIds(int[] ids) {}

    static final class TokenIdsConverter implements ITypeConverter<TokenIds> {
        @Override
        public TokenIds convert(String s) {
            return new TokenIds(parseIds(s));
        }
    }

    static int[] parseIds(String s) {
        String t = s.strip();
        if (t.startsWith("[") && t.endsWith("]")) t = t.substring(1, t.length() - 1); // JSON arrays from `jmlc tokenize` too
        if (t.isBlank()) throw new TypeConversionException("expected comma-separated token ids such as 1,450,4996, found nothing");
        String[] parts = t.split(",");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].strip();
            try {
                ids[i] = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new TypeConversionException("expected comma-separated token ids such as 1,450,4996, found '" + p + "'");
            }
            if (ids[i] < 0) throw new TypeConversionException("token ids are >= 0, found " + ids[i]);
        }
        return ids;
    }
}
