package jmlc.magics.core;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a notebook cell into what runs in order: Java code, line magics, or one cell magic.
 *
 * <ul>
 *   <li>A cell whose first non-blank line is {@code %%name args} is a cell magic; the lines below are its body.</li>
 *   <li>Otherwise a line whose first non-blank characters are {@code %name} is a line magic, and the
 *       lines between magics are Java. {@code %} followed by anything but a letter or '_' stays Java
 *       (the remainder operator at the start of a continued line).</li>
 * </ul>
 */
public final class Cell {

    /** One piece of a cell. {@code line} is 0-based, within the cell, for error messages. */
    public sealed interface Part {
        int line();
    }

    /** Java code (one or more snippets) starting at {@code line}. */
    public record Java(String code, int line) implements Part {}

    /** {@code %name args} */
    public record LineMagic(String name, String args, int line) implements Part {}

    /** {@code %%name args} then {@code body} */
    public record CellMagic(String name, String args, String body) implements Part {
        @Override
        public int line() {
            return 0;
        }
    }

    private static final Pattern MAGIC = Pattern.compile("^\\s*(%%?)([A-Za-z_][\\w.\\-]*)(.*)$", Pattern.DOTALL);

    private Cell() {
    }

    public static List<Part> parse(String cell) {
        String[] lines = cell.split("\n", -1);
        int first = 0;
        while (first < lines.length && lines[first].isBlank()) first++;
        if (first < lines.length) {
            Matcher m = MAGIC.matcher(lines[first]);
            if (m.matches() && m.group(1).equals("%%")) {
                String body = String.join("\n", java.util.Arrays.copyOfRange(lines, first + 1, lines.length));
                return List.of(new CellMagic(m.group(2), m.group(3).strip(), body));
            }
        }

        var parts = new ArrayList<Part>();
        var java = new StringBuilder();
        int javaStart = 0;
        for (int i = 0; i < lines.length; i++) {
            Matcher m = MAGIC.matcher(lines[i]);
            if (!m.matches()) {
                if (java.isEmpty()) javaStart = i;
                java.append(lines[i]).append('\n');
                continue;
            }
            if (m.group(1).equals("%%")) {
                throw new MagicException("cell magic %%" + m.group(2) + " must be the first line of its cell (it is line "
                        + (i + 1) + ")");
            }
            flushJava(parts, java, javaStart);
            parts.add(new LineMagic(m.group(2), m.group(3).strip(), i));
        }
        flushJava(parts, java, javaStart);
        return parts;
    }

    private static void flushJava(List<Part> parts, StringBuilder java, int start) {
        if (!java.toString().isBlank()) {
            java.setLength(java.length() - 1); // the newline added after the last line
            parts.add(new Java(java.toString(), start));
        }
        java.setLength(0);
    }

    /** True if this line (the one the cursor is on, say) is a magic line. */
    public static boolean isMagicLine(String line) {
        return MAGIC.matcher(line).matches();
    }
}
