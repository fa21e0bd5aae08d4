package jmlc.magics.core;

/** Small helpers for magics that build HTML. */
public final class Html {

    private Html() {
    }

    /** Escapes text for HTML element content and attribute values. */
    public static String escape(String text) {
        var sb = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** A plain table: a header row and rows of cells, all escaped. */
    public static String table(java.util.List<String> header, java.util.List<java.util.List<String>> rows) {
        var sb = new StringBuilder("<table>\n<tr>");
        for (String h : header) sb.append("<th style=\"text-align:left\">").append(escape(h)).append("</th>");
        sb.append("</tr>\n");
        for (var row : rows) {
            sb.append("<tr>");
            for (String cell : row) sb.append("<td style=\"text-align:left\">").append(escape(cell)).append("</td>");
            sb.append("</tr>\n");
        }
        return sb.append("</table>").toString();
    }
}
