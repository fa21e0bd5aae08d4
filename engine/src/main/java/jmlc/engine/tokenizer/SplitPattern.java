package jmlc.engine.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * tokenizer.json's pattern object, {@code {"String": " "}} or {@code {"Regex": "..."}}, compiled
 * for java.util.regex. HF compiles Regex patterns with Oniguruma in Unicode mode; Java matches
 * that with {@link Pattern#UNICODE_CHARACTER_CLASS}: {@code \s} is then the Unicode White_Space
 * property (U+0085 and U+00A0 included, U+FEFF not), {@code \d}/{@code \w} are Unicode, and
 * {@code (?i:...)} folds case by Unicode rules. Possessive quantifiers, look-ahead and
 * {@code \p{L}}/{@code \p{N}} mean the same in both engines; script names such as
 * {@code \p{Han}} are rewritten to Java's {@code \p{IsHan}}.
 */
record SplitPattern(String source, boolean literal, Pattern regex) {

    static SplitPattern literal(String s) {
        return new SplitPattern(s, true, Pattern.compile(Pattern.quote(s)));
    }

    static SplitPattern regex(String source, JsonAt where) {
        try {
            return new SplitPattern(source, false, Pattern.compile(toJava(source), Pattern.UNICODE_CHARACTER_CLASS));
        } catch (PatternSyntaxException e) {
            throw new TokenizerException(where.file(), where.path(),
                    "a regular expression java.util.regex accepts", "\"" + source + "\" (" + e.getDescription() + ")", e);
        }
    }

    static SplitPattern parse(JsonAt json) {
        if (json.get("String").isPresent()) return literal(json.string("String"));
        if (json.get("Regex").isPresent()) return regex(json.string("Regex"), json.get("Regex"));
        throw json.error("{\"String\": ...} or {\"Regex\": ...}", json.describe());
    }

    private static final Pattern PROPERTY = Pattern.compile("\\\\([pP])\\{(\\^?)([A-Za-z_]+)\\}");

    /** Oniguruma script properties ({@code \p{Han}}) become Java's {@code \p{IsHan}}; all else is kept. */
    static String toJava(String onig) {
        Matcher m = PROPERTY.matcher(onig);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(3);
            String replacement = m.group();
            if (name.length() > 2 && isScript(name)) {
                // \p{^Han} is Oniguruma's negation: Java spells it \P{IsHan}.
                boolean negate = m.group(1).equals("P") ^ !m.group(2).isEmpty();
                replacement = "\\" + (negate ? "P" : "p") + "{Is" + name + "}";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static boolean isScript(String name) {
        try {
            Character.UnicodeScript.forName(name);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
