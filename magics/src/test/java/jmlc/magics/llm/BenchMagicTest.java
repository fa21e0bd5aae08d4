package jmlc.magics.llm;

import jmlc.magics.core.MagicException;
import jmlc.magics.core.MimeBundle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** %bench: a table of this call's runs and a chart of all runs, across devices and quantizations. */
class BenchMagicTest {

    final Notebook nb = new Notebook();

    @AfterEach
    void close() {
        nb.close();
    }

    static void assertPng(MimeBundle chart) {
        byte[] png = Base64.getDecoder().decode((String) chart.data().get(MimeBundle.PNG));
        assertArrayEquals(new byte[]{(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
        assertTrue(png.length > 5000, "a drawn chart, not an empty image: " + png.length);
        String svg = (String) chart.data().get(MimeBundle.SVG);
        assertTrue(svg.contains("<svg") && svg.contains("</svg>"), svg.substring(0, Math.min(200, svg.length())));
    }

    @Test
    void benchShowsATableOfItsRunsAndAChartOfAllRuns() throws Exception {
        nb.run("%load synthetic:tiny --max-context 128");
        nb.out.clear();
        MimeBundle chart = nb.bundle("%bench --gen 8 --runs 2");
        assertPng(chart);
        MimeBundle table = nb.shown().getLast();
        String text = table.text();
        assertTrue(text.matches("(?s).*This benchmark \\(synthetic:tiny, q4f16_1, cpu\\): prefill [0-9.]+ ± [0-9.]+ tok/s, decode [0-9.]+ ± [0-9.]+ tok/s \\(mean ± standard deviation\\).*"), text);
        String html = (String) table.data().get(MimeBundle.HTML);
        assertTrue(html.contains("<th style=\"text-align:right\">decode tok/s</th>"), html);
        List<BenchRun> runs = Llm.benchmarks(nb.session).runs();
        assertEquals(2, runs.size());
        for (BenchRun r : runs) {
            assertEquals(7, r.decodeTokens());
            assertTrue(r.prefillTokensPerSecond() > 0 && r.decodeTokensPerSecond() > 0, r.toString());
        }
        assertTrue(nb.updates().getLast().text().startsWith("Benchmark synthetic:tiny on cpu: warm-up runs for at least 3 s, 2 timed")
                && nb.updates().getLast().text().matches(".*2 timed runs after \\d+ warm-up runs?"), "warm-up runs first, by default: " + nb.updates().getLast().text());
        assertTrue(nb.updates().stream().anyMatch(b -> b.text().contains("run 2: decode ")), "progress per run");

        nb.run("%reload --device cpu:ref --quant q0f32");
        nb.bundle("%bench --gen 4 --prompt 'Hello world' --warmup 2 --runs 1");
        assertEquals(3, Llm.benchmarks(nb.session).size(), "warm-up runs are not in the history");
        assertTrue(nb.updates().getLast().text().startsWith("Benchmark synthetic:tiny on cpu:ref: 2 warm-up runs, 1 timed")
                && nb.updates().getLast().text().endsWith("1 timed run after 2 warm-up runs"), nb.updates().getLast().text());
        nb.run("%reload --disable-pass FuseAddRmsNorm");
        MimeBundle all = nb.bundle("%bench --gen 4 --warmup 1");
        assertPng(all);
        assertEquals(6, Llm.benchmarks(nb.session).size(), "three timed runs by default");
        String summary = all.text();
        assertTrue(summary.contains("cpu  synthetic:tiny q4f16_1 ") && summary.contains("(2 runs)") && summary.contains("(3 runs)"), summary);
        assertTrue(summary.contains("cpu:ref  synthetic:tiny q0f32 ") && summary.contains("cpu:ref  synthetic:tiny q0f32 -FuseAddRmsNorm"), summary);
        assertEquals(3, Llm.benchmarks(nb.session).categoryChart().getSeriesCollection().size(), "three configurations");

        nb.out.clear();
        assertPng(nb.bundle("%bench --show"));
        assertTrue(nb.shown().getFirst().text().contains("Benchmark runs"), nb.shown().getFirst().text());
        nb.run("%bench --clear");
        assertEquals(0, Llm.benchmarks(nb.session).size());
        assertTrue(nb.out.stdout().contains("Forgot 6 benchmark runs."));
    }

    @Test
    void badArgumentsAreClearErrors() throws Exception {
        assertEquals(Llm.NO_MODEL, assertThrows(MagicException.class, () -> nb.run("%bench --gen 4")).getMessage());
        nb.run("%load synthetic:tiny --max-context 64");
        assertEquals("%bench: --gen must be positive, found 0", assertThrows(MagicException.class, () -> nb.run("%bench --gen 0")).getMessage());
        assertEquals("%bench: --runs must be positive, found -2", assertThrows(MagicException.class, () -> nb.run("%bench --runs -2")).getMessage());
        assertEquals("%bench: --warmup must be 0 or more runs, found -1", assertThrows(MagicException.class, () -> nb.run("%bench --warmup -1")).getMessage());
        assertEquals(0, Llm.benchmarks(nb.session).size());
        nb.run("%bench --gen 100");
        assertTrue(nb.out.stderr().startsWith("%bench: run 1 decoded 62 of 100 tokens: the context window (64 tokens) is full."),
                nb.out.stderr());
    }

    @Test
    void anEmptyHistoryStillDraws() {
        var history = new BenchHistory();
        assertPng(history.chart());
        assertEquals("decode tok/s (mean ± standard deviation of the runs):", history.summary());
    }

    /** Bars are the mean of a configuration's runs, whiskers their standard deviation; the legend has a line per configuration. */
    @Test
    void theChartShowsMeansAndStandardDeviations() {
        var history = new BenchHistory();
        for (double decode : new double[] {100, 50, 200}) history.add(new BenchRun("cpu", "synthetic:tiny", "q4f16_1", "", 3, 31, 500, decode, 0.1));
        history.add(new BenchRun("cpu", "synthetic:tiny", "q4f16_1", "-FuseAddRmsNorm -FuseMatmulPrologue -FuseMatmulResidual", 3, 31, 500, 80, 0.1));
        var chart = history.categoryChart();
        var fused = chart.getSeries("synthetic:tiny q4f16_1");
        assertEquals(116.67, fused.getYData()[0], 0.01);
        assertEquals(76.38, fused.getExtraValues()[0], 0.01, "sample standard deviation of 100, 50, 200");
        assertEquals(0, chart.getSeries("synthetic:tiny q4f16_1 -FuseAddRmsNorm\n-FuseMatmulPrologue -FuseMatmulResidual").getExtraValues()[0],
                "a long configuration is broken into lines XChart does not cut short");
        assertEquals(org.knowm.xchart.style.Styler.LegendLayout.Vertical, chart.getStyler().getLegendLayout(), "a configuration a line, not one clipped row");
        assertTrue(history.summary().matches("(?s).*\n  cpu  synthetic:tiny q4f16_1 +116\\.7 ± 76\\.4  \\(3 runs\\)\n.*"), history.summary());
        assertPng(history.chart());
    }
}
