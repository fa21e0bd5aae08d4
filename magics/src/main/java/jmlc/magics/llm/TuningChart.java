package jmlc.magics.llm;

import jmlc.compiler.tune.Measurement;
import jmlc.compiler.tune.TaskResult;
import jmlc.magics.core.MimeBundle;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BoxChart;
import org.knowm.xchart.BoxChartBuilder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.style.Styler;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.numbers.NumberColumnFormatter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What {@code %tune} shows: a box per kernel of its candidates' times over the defaults' (1: the
 * defaults; lower is faster), drawn again as each kernel finishes, and the table of results.
 */
final class TuningChart {
    private TuningChart() {}

    /** {@code gemvh 4096x4096}: the kind and the matrix's rows x columns (the kind alone for attention), short enough for an axis. */
    static String label(TaskResult r) {
        String shape = r.task().signature().shape(), last = shape.substring(shape.lastIndexOf('_') + 1);
        return r.task().signature().kind() + (last.matches("\\d+x\\d+") ? " " + last : "");
    }

    /** Each candidate's time over the defaults'. */
    static double[] relative(TaskResult r) {
        if (r.defaults() == null) return new double[0];
        return r.all().stream().filter(m -> m instanceof Measurement.Timed).mapToDouble(m -> ((Measurement.Timed) m).ms() / r.defaults().ms()).toArray();
    }

    static BoxChart chart(List<TaskResult> results, String title) {
        BoxChart chart = new BoxChartBuilder().width(900).height(520).title(title + ": candidates per kernel").yAxisTitle("time / the defaults' time").build();
        var st = chart.getStyler();
        st.setChartBackgroundColor(java.awt.Color.WHITE);
        st.setLegendVisible(false);
        st.setPlotGridVerticalLinesVisible(false);
        st.setXAxisLabelRotation(45);
        st.setXAxisTickMarkSpacingHint(20); // a label under every box
        st.setAxisTickLabelsFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 10));
        st.setYAxisDecimalPattern("0.00");
        st.setLegendPosition(Styler.LegendPosition.OutsideS);
        boolean any = false;
        for (TaskResult r : results) {
            double[] v = relative(r);
            if (v.length == 0) continue;
            chart.addSeries(label(r) + " (" + v.length + ")", v.length == 1 ? new double[] {v[0], v[0]} : v);
            any = true;
        }
        if (!any) chart.addSeries("no kernel measured yet", new double[] {1, 1});
        return chart;
    }

    /** The chart as PNG and SVG, with the distribution in words for front ends that show no images. */
    static MimeBundle bundle(List<TaskResult> results, String title) {
        BoxChart chart = chart(results, title);
        byte[] png;
        var svg = new ByteArrayOutputStream();
        try {
            png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
            VectorGraphicsEncoder.saveVectorGraphic(chart, svg, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot draw the tuning chart", e);
        }
        StringBuilder text = new StringBuilder(title).append(": candidates' time over the defaults'");
        for (TaskResult r : results) {
            double[] v = relative(r);
            if (v.length == 0) continue;
            Arrays.sort(v);
            text.append(String.format(Locale.ROOT, "%n  %-32s n=%-4d fastest %.3f  median %.3f  slowest %.3f", label(r), v.length, v[0], v[v.length / 2], v[v.length - 1]));
        }
        return MimeBundle.png(png).with(MimeBundle.SVG, svg.toString(StandardCharsets.UTF_8)).withText(text.toString());
    }

    /** One row per kernel: its uses, how timed, the defaults' and the best time, the gain, candidates, the knobs kept. */
    static Table table(String title, List<TaskResult> results) {
        var kernel = StringColumn.create("kernel");
        var uses = IntColumn.create("uses");
        var timed = StringColumn.create("timed as");
        var def = DoubleColumn.create("default ms");
        var best = DoubleColumn.create("best ms");
        var gain = DoubleColumn.create("gain");
        var cands = IntColumn.create("candidates");
        var refused = IntColumn.create("refused");
        var knobs = StringColumn.create("knobs kept");
        for (TaskResult r : results) {
            kernel.append(r.task().signature().toString());
            uses.append(r.task().uses());
            timed.append(r.task().timedAs());
            def.append(r.defaults() == null ? Double.NaN : r.defaults().ms());
            best.append(r.best() == null ? Double.NaN : r.best().ms());
            gain.append(r.gain());
            cands.append((int) r.timedCount());
            refused.append((int) r.rejectedCount());
            knobs.append(r.defaults() == null ? (r.all().isEmpty() ? "not measured (budget)" : "defaults refused") : r.describeBest() + (r.improved() ? "" : " (the defaults)"));
        }
        def.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(4));
        best.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(4));
        gain.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(3));
        return Table.create(title, kernel, uses, timed, def, best, gain, cands, refused, knobs);
    }
}
