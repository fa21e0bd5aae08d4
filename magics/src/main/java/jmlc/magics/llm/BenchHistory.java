package jmlc.magics.llm;

import jmlc.engine.bench.Spread;
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
 * Every timed benchmark run of the notebook, in order: {@code %bench} adds to it, cells too
 * ({@code Jmlc.benchmarks().add(BenchRun.measure(cm, "Hi", 64))}). Shows as a table; {@link #chart()}
 * draws decode speed per device (categories) and model/quantization (series): the mean of the runs,
 * with their standard deviation. Thread-safe.
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

    /** Each configuration's (model, quantization, disabled passes) decode tok/s per device, over its runs, in order of first run. */
    private Map<String, Map<String, Spread>> decodeSpreads() {
        Map<String, Map<String, List<Double>>> values = new LinkedHashMap<>(); // configuration -> device -> decode tok/s
        for (BenchRun r : runs())
            values.computeIfAbsent(r.configuration(), k -> new LinkedHashMap<>()).computeIfAbsent(r.device(), k -> new ArrayList<>()).add(r.decodeTokensPerSecond());
        Map<String, Map<String, Spread>> spreads = new LinkedHashMap<>();
        values.forEach((config, byDevice) -> byDevice.forEach((device, v) -> spreads.computeIfAbsent(config, k -> new LinkedHashMap<>()).put(device, Spread.of(v))));
        return spreads;
    }

    /**
     * Decode tok/s per device (categories) and configuration (series): the mean of their runs as
     * bars, the standard deviation as error bars, as an XChart bar chart. The legend lists one
     * configuration a line below the plot, and the chart grows to hold it.
     */
    public CategoryChart categoryChart() {
        List<BenchRun> all = runs();
        var devices = new LinkedHashSet<String>();
        all.forEach(r -> devices.add(r.device()));
        Map<String, Map<String, Spread>> spreads = decodeSpreads();
        CategoryChart chart = new CategoryChartBuilder().width(760).height(400 + 22 * Math.max(1, spreads.size()))
                .title("Decode speed (" + all.size() + (all.size() == 1 ? " run" : " runs") + "; bars: mean, whiskers: standard deviation)")
                .xAxisTitle("device").yAxisTitle("decode tok/s").build();
        var st = chart.getStyler();
        st.setLegendPosition(Styler.LegendPosition.OutsideS);
        st.setLegendLayout(Styler.LegendLayout.Vertical);
        st.setLabelsVisible(true);
        st.setDecimalPattern("#,##0.0");
        st.setAvailableSpaceFill(0.8);
        st.setPlotGridVerticalLinesVisible(false);
        st.setChartBackgroundColor(java.awt.Color.WHITE);
        st.setErrorBarsColor(java.awt.Color.DARK_GRAY);
        st.setYAxisMin(0.0);
        st.setYAxisDecimalPattern("#,##0");
        List<String> categories = List.copyOf(devices);
        if (categories.isEmpty()) {
            chart.addSeries("no runs yet", List.of("-"), List.of(0));
            return chart;
        }
        double max = 0;
        for (var e : spreads.entrySet()) {
            List<Double> means = new ArrayList<>(), deviations = new ArrayList<>();
            for (String d : categories) {
                Spread s = e.getValue().get(d);
                means.add(s == null ? 0.0 : s.mean());
                deviations.add(s == null ? 0.0 : s.stddev());
                if (s != null) max = Math.max(max, s.mean() + s.stddev());
            }
            chart.addSeries(legendLabel(e.getKey()), categories, means, deviations);
        }
        if (max > 0) st.setYAxisMax(max * 1.15); // room above the tallest bar for its label
        return chart;
    }

    /**
     * A configuration as a legend entry: lines of at most {@value #LEGEND_LINE} characters, broken
     * between words (XChart cuts a longer line short with an ellipsis at 45% of the chart's width).
     */
    static String legendLabel(String configuration) {
        var label = new StringBuilder();
        int line = 0;
        for (String word : configuration.split(" ")) {
            if (line > 0 && line + 1 + word.length() > LEGEND_LINE) {
                label.append('\n');
                line = 0;
            } else if (line > 0) {
                label.append(' ');
                line++;
            }
            label.append(word);
            line += word.length();
        }
        return label.toString();
    }

    static final int LEGEND_LINE = 40;

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

    /** Per device and configuration, the decode speed's mean ± standard deviation: the chart in words. */
    public String summary() {
        var lines = new StringBuilder("decode tok/s (mean ± standard deviation of the runs):");
        var byRow = new LinkedHashMap<String, Spread>();
        for (BenchRun r : runs()) byRow.putIfAbsent(r.device() + "  " + r.configuration(), null);
        decodeSpreads().forEach((config, byDevice) -> byDevice.forEach((device, s) -> byRow.put(device + "  " + config, s)));
        byRow.forEach((k, s) -> lines.append(String.format("%n  %-48s %16s  (%d run%s)", k, s.format(), s.n(), s.n() == 1 ? "" : "s")));
        return lines.toString();
    }

    @Override
    public synchronized String toString() {
        return "BenchHistory[" + runs.size() + " runs]";
    }
}
