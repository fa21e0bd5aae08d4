package jmlc.magics.llm;

import jmlc.magics.core.Html;
import jmlc.magics.core.MimeBundle;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

import java.util.List;

/** Shows a Tablesaw {@link Table} in a notebook: an HTML table, with Tablesaw's own text as text/plain. */
public final class TableView {

    private TableView() {
    }

    public static MimeBundle of(Table table) {
        var html = new StringBuilder("<table class=\"jmlc-table\">\n");
        if (table.name() != null && !table.name().isBlank())
            html.append("<caption style=\"text-align:left\"><b>").append(Html.escape(table.name())).append("</b></caption>\n");
        html.append("<tr>");
        List<Column<?>> columns = table.columns();
        for (Column<?> c : columns) html.append("<th style=\"text-align:").append(align(c)).append("\">").append(Html.escape(c.name())).append("</th>");
        html.append("</tr>\n");
        for (int row = 0; row < table.rowCount(); row++) {
            html.append("<tr>");
            for (Column<?> c : columns) {
                html.append("<td style=\"text-align:").append(align(c)).append("\">")
                        .append(Html.escape(c.getString(row))).append("</td>");
            }
            html.append("</tr>\n");
        }
        html.append("</table>");
        return MimeBundle.html(html.toString()).withText(table.printAll());
    }

    private static String align(Column<?> c) {
        return c instanceof tech.tablesaw.api.NumericColumn<?> ? "right" : "left";
    }
}
