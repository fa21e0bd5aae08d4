package jmlc.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
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
 *
 * <p>A pattern comes from a file anyone can write, and a backtracking engine can take exponential
 * time ({@code (.*a){12}c} on 40 "a"s does not end). So every match runs over a {@link Budgeted}
 * view of the text that counts the engine's character reads: past {@link #STEPS_PER_CHAR} per
 * character of the text (plus {@link #BASE_STEPS}) the match fails with a {@link TokenizerException}
 * naming the file and key, and an interrupt of the thread stops it within a few thousand reads.
 *
 * @param file where the pattern comes from, for errors (a tokenizer.json, a GGUF file, or a built-in's name)
 * @param key  the JSON path or GGUF key of the pattern
 */
record SplitPattern(String source, boolean literal, Pattern regex, String file, String key) {

    /**
     * Character reads a match may make per character of its text. The split patterns of
     * Llama-3, Qwen2 and GPT-2 read each character 1 to 13 times on the tokenizer corpus and on
     * long runs of spaces, newlines, digits, letters and punctuation (measured by
     * TokHostileInputTest.realPatternsStayFarBelowTheBudget); the budget is 150 times the worst.
     */
    static final long STEPS_PER_CHAR = 2_000;
    /** Reads any match may make, however short its text. */
    static final long BASE_STEPS = 1_000_000;

    static SplitPattern literal(String s) {
        return new SplitPattern(s, true, Pattern.compile(Pattern.quote(s)), "(built in)", "literal");
    }

    /** A regular expression; {@code where} is its place in tokenizer.json (null: built in). */
    static SplitPattern regex(String source, JsonAt where) {
        return where == null ? regex(source, "(built in)", "pattern") : regex(source, where.file(), where.path());
    }

    static SplitPattern regex(String source, String file, String key) {
        try {
            return new SplitPattern(source, false, Pattern.compile(toJava(source), Pattern.UNICODE_CHARACTER_CLASS), file, key);
        } catch (PatternSyntaxException e) {
            throw new TokenizerException(file, key, "a regular expression java.util.regex accepts", "\"" + source + "\" (" + e.getDescription() + ")", e);
        }
    }

    static SplitPattern parse(JsonAt json) {
        if (json.get("String").isPresent()) return literal(json.string("String"));
        if (json.get("Regex").isPresent()) return regex(json.string("Regex"), json.get("Regex"));
        throw json.error("{\"String\": ...} or {\"Regex\": ...}", json.describe());
    }

    /** The non-empty matches in {@code text}, as {start, end}, left to right. */
    List<int[]> find(String text) {
        return find(new Budgeted(text));
    }

    /** How many character reads finding every match in {@code text} takes (for tests of the budget). */
    long reads(String text) {
        Budgeted t = new Budgeted(text);
        find(t);
        return t.steps;
    }

    private List<int[]> find(Budgeted t) {
        String text = t.text;
        List<int[]> spans = new ArrayList<>();
        try {
            Matcher m = regex.matcher(t);
            while (m.find()) if (m.start() != m.end()) spans.add(new int[] {m.start(), m.end()});
        } catch (OverBudget e) {
            throw overBudget(text, t);
        }
        return spans;
    }

    /** {@code text} with every match replaced by {@code replacement}, taken literally. */
    String replaceAll(String text, String replacement) {
        Budgeted t = new Budgeted(text);
        try {
            return regex.matcher(t).replaceAll(Matcher.quoteReplacement(replacement));
        } catch (OverBudget e) {
            throw overBudget(text, t);
        }
    }

    private TokenizerException overBudget(String text, Budgeted t) {
        return new TokenizerException(file, key, "a pattern that matches in time proportional to the text",
                "\"" + source + "\", which took more than " + t.budget + " steps on " + text.length()
                        + " characters: it backtracks catastrophically (nested or repeated quantifiers such as (.*a){12}c)");
    }

    /** Thrown from inside the matcher, where only unchecked exceptions get through; becomes a TokenizerException. */
    private static final class OverBudget extends RuntimeException {
        OverBudget() {
            super(null, null, false, false);
        }
    }

    /** The text as java.util.regex reads it (every access is a charAt), counting the reads. */
    private static final class Budgeted implements CharSequence {
        private final String text;
        final long budget;
        long steps;

        Budgeted(String text) {
            this.text = text;
            this.budget = BASE_STEPS + STEPS_PER_CHAR * text.length();
        }

        @Override
        public char charAt(int index) {
            if ((++steps & 0xFFF) == 0) check(); // every 4096 reads: microseconds apart
            return text.charAt(index);
        }

        private void check() {
            if (steps > budget) throw new OverBudget();
            if (Thread.currentThread().isInterrupted()) throw new CancellationException("tokenizing was interrupted");
        }

        @Override
        public int length() {
            return text.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return text.subSequence(start, end); // the matcher takes these for groups and replacements, never to match on
        }

        @Override
        public String toString() {
            return text;
        }
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
