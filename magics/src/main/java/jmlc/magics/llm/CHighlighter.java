package jmlc.magics.llm;

import jmlc.magics.core.Html;

import java.util.Set;

/**
 * Just enough C highlighting for generated kernels: comments, preprocessor lines, keywords and
 * qualifiers, types, numbers and strings, as spans with inline colours inside one {@code <pre>}.
 */
final class CHighlighter {

    private CHighlighter() {
    }

    private static final String COMMENT = "color:#6a737d;font-style:italic";
    private static final String KEYWORD = "color:#d73a49;font-weight:bold";
    private static final String TYPE = "color:#6f42c1";
    private static final String NUMBER = "color:#005cc5";
    private static final String STRING = "color:#22863a";
    private static final String BUILTIN = "color:#e36209";

    private static final Set<String> KEYWORDS = Set.of("extern", "for", "if", "else", "return", "while", "do", "break", "continue",
            "const", "static", "inline", "asm", "volatile", "__restrict__", "__global__", "__device__", "__shared__", "__forceinline__",
            "__launch_bounds__", "sizeof", "struct", "typedef");
    private static final Set<String> TYPES = Set.of("void", "float", "double", "int", "unsigned", "short", "char", "long", "bool",
            "half", "_Float16", "uint32_t", "int32_t", "uint16_t", "uint8_t", "int8_t", "size_t");

    static String html(String source) {
        var out = new StringBuilder("<pre class=\"jmlc-source\" style=\"line-height:1.3\">");
        int i = 0, n = source.length();
        boolean lineStart = true;
        while (i < n) {
            char c = source.charAt(i);
            if (c == '/' && i + 1 < n && source.charAt(i + 1) == '/') {
                int end = source.indexOf('\n', i);
                end = end < 0 ? n : end;
                span(out, COMMENT, source.substring(i, end));
                i = end;
            } else if (c == '/' && i + 1 < n && source.charAt(i + 1) == '*') {
                int end = source.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
                span(out, COMMENT, source.substring(i, end));
                i = end;
            } else if (c == '#' && lineStart) {
                int end = source.indexOf('\n', i);
                end = end < 0 ? n : end;
                span(out, KEYWORD, source.substring(i, end));
                i = end;
            } else if (c == '"') {
                int end = i + 1;
                while (end < n && source.charAt(end) != '"' && source.charAt(end) != '\n') end += source.charAt(end) == '\\' ? 2 : 1;
                end = Math.min(n, end + 1);
                span(out, STRING, source.substring(i, end));
                i = end;
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(source.charAt(i + 1)))) {
                int end = i + 1;
                while (end < n && (Character.isLetterOrDigit(source.charAt(end)) || source.charAt(end) == '.')) end++;
                span(out, NUMBER, source.substring(i, end));
                i = end;
            } else if (Character.isJavaIdentifierStart(c)) {
                int end = i + 1;
                while (end < n && Character.isJavaIdentifierPart(source.charAt(end))) end++;
                String word = source.substring(i, end);
                if (KEYWORDS.contains(word)) span(out, KEYWORD, word);
                else if (TYPES.contains(word)) span(out, TYPE, word);
                else if (word.startsWith("__") || word.startsWith("jmlc_") || word.equals("threadIdx") || word.equals("blockIdx")
                        || word.equals("blockDim") || word.equals("gridDim")) span(out, BUILTIN, word);
                else out.append(Html.escape(word));
                i = end;
            } else {
                out.append(Html.escape(String.valueOf(c)));
                i++;
            }
            if (c == '\n') lineStart = true;
            else if (!Character.isWhitespace(c)) lineStart = false;
        }
        return out.append("</pre>").toString();
    }

    private static void span(StringBuilder out, String style, String text) {
        out.append("<span style=\"").append(style).append("\">").append(Html.escape(text)).append("</span>");
    }
}
