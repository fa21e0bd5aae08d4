package jmlc.magics.llm;

import jmlc.magics.core.Displayable;
import jmlc.magics.core.MimeBundle;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Every benchmark run of the notebook, in order: {@code %bench} adds to it, cells too
 * ({@code Jmlc.benchmarks().add(BenchRun.measure(cm, "Hi", 64))}). Shows as a table; {@link #chart()}
 * draws decode speed per device (categories) and model/quantization (series), the mean of the runs.
 * Thread-safe.
 */
public final class BenchHistory implements Displayable {

    private final List<BenchRun> runs = new ArrayList<>();

    public synchronized BenchHistory add(BenchRun run) {
        runs.add(run);
        return this;
    }

    public synchronized List<BenchRun> runs() {
        return List.copyOf(runs);
    }

    public synchronized void clear() {
        runs.clear();
    }

    public synchronized int size() {
        return runs.size();
    }

    /** Every run as a Tablesaw table. */
    public Table table() {
        return table("Benchmark runs", runs());
    }

    /** {@code runs} as a Tablesaw table: one row per run, numbered from {@code firstNumber}. */
    public static Table table(String title, List<BenchRun> runs) {
        var number = IntColumn.create("run");
        var device = StringColumn.create("device");
        var model = StringColumn.create("model");
        var quant = StringColumn.create("quant");
        var variant = StringColumn.create("passes");
        var prompt = IntColumn.create("prompt tokens");
        var decode = IntColumn.create("decode tokens");
        var prefillSpeed = DoubleColumn.create("prefill tok/s");
        var decodeSpeed = DoubleColumn.create("decode tok/s");
        var seconds = DoubleColumn.create("seconds");
        int i = 1;
        for (BenchRun r : runs) {
            number.append(i++);
            device.append(r.device());
            model.append(r.model());
            quant.append(r.quant());
            variant.append(r.variant().isEmpty() ? "all" : r.variant());
            prompt.append(r.promptTokens());
            decode.append(r.decodeTokens());
            prefillSpeed.append(r.prefillTokensPerSecond());
            decodeSpeed.append(r.decodeTokensPerSecond());
            seconds.append(r.seconds());
        }
        prefillSpeed.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(1));
        decodeSpeed.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(1));
        seconds.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(2));
        return Table.create(title, number, device, model, quant, variant, prompt, decode, prefillSpeed, decodeSpeed, seconds);
    }

    @Override
    public MimeBundle toMimeBundle() {
        return TableView.of(table());
    }

    /**
     * Decode tok/s per device and configuration (model, quantization, disabled passes), the mean of
     * their runs, as an XChart bar chart.
     */
    public CategoryChart categoryChart() {
        List<BenchRun> all = runs();
        var devices = new LinkedHashSet<String>();
        Map<String, Map<String, double[]>> sums = new LinkedHashMap<>(); // configuration -> device -> (sum, count)
        for (BenchRun r : all) {
            devices.add(r.device());
            sums.computeIfAbsent(r.configuration(), k -> new LinkedHashMap<>())
                    .computeIfAbsent(r.device(), k -> new double[2]);
            double[] s = sums.get(r.configuration()).get(r.device());
            s[0] += r.decodeTokensPerSecond();
            s[1]++;
        }
        CategoryChart chart = new CategoryChartBuilder().width(760).height(420)
                .title("Decode speed (" + all.size() + (all.size() == 1 ? " run" : " runs") + ")")
                .xAxisTitle("device").yAxisTitle("decode tok/s (mean)").build();
        var st = chart.getStyler();
        st.setLegendPosition(Styler.LegendPosition.OutsideS);
        st.setLegendLayout(Styler.LegendLayout.Horizontal);
        st.setLabelsVisible(true);
        st.setDecimalPattern("#,##0.0");
        st.setAvailableSpaceFill(0.8);
        st.setPlotGridVerticalLinesVisible(false);
        st.setChartBackgroundColor(java.awt.Color.WHITE);
        st.setYAxisMin(0.0);
        st.setYAxisDecimalPattern("#,##0");
        List<String> categories = List.copyOf(devices);
        if (categories.isEmpty()) {
            chart.addSeries("no runs yet", List.of("-"), List.of(0));
            return chart;
        }
        double max = 0;
        for (var e : sums.entrySet()) {
            List<Double> values = new ArrayList<>();
            for (String d : categories) {
                double[] s = e.getValue().get(d);
                values.add(s == null ? 0.0 : s[0] / s[1]);
                if (s != null) max = Math.max(max, s[0] / s[1]);
            }
            chart.addSeries(e.getKey(), categories, values);
        }
        if (max > 0) st.setYAxisMax(max * 1.15); // room above the tallest bar for its label
        return chart;
    }

    /** {@link #categoryChart()} as PNG and SVG, with a text summary for front ends that show no images. */
    public MimeBundle chart() {
        CategoryChart chart = categoryChart();
        byte[] png;
        var svg = new ByteArrayOutputStream();
        try {
            png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
            VectorGraphicsEncoder.saveVectorGraphic(chart, svg, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot draw the benchmark chart", e);
        }
        return MimeBundle.png(png)
                .with(MimeBundle.SVG, svg.toString(StandardCharsets.UTF_8))
                .withText(summary());
    }

    /** Per device and configuration, the mean decode speed: the chart in words. */
    public String summary() {
        var lines = new StringBuilder("decode tok/s (mean of runs):");
        var seen = new LinkedHashMap<String, double[]>();
        for (BenchRun r : runs()) {
            double[] s = seen.computeIfAbsent(r.device() + "  " + r.configuration(), k -> new double[2]);
            s[0] += r.decodeTokensPerSecond();
            s[1]++;
        }
        seen.forEach((k, s) -> lines.append(String.format("%n  %-48s %10.1f  (%d run%s)", k, s[0] / s[1], (int) s[1], s[1] == 1 ? "" : "s")));
        return lines.toString();
    }

    @Override
    public synchronized String toString() {
        return "BenchHistory[" + runs.size() + " runs]";
    }
}
