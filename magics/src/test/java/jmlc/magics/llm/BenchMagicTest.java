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
        assertTrue(text.contains("This benchmark (synthetic:tiny, q4f16_1, cpu)"), text);
        String html = (String) table.data().get(MimeBundle.HTML);
        assertTrue(html.contains("<th style=\"text-align:right\">decode tok/s</th>"), html);
        List<BenchRun> runs = Llm.benchmarks(nb.session).runs();
        assertEquals(2, runs.size());
        for (BenchRun r : runs) {
            assertEquals(7, r.decodeTokens());
            assertTrue(r.prefillTokensPerSecond() > 0 && r.decodeTokensPerSecond() > 0, r.toString());
        }
        assertTrue(nb.updates().stream().anyMatch(b -> b.text().contains("run 2: decode ")), "progress per run");

        nb.run("%reload --device cpu:ref --quant q0f32");
        nb.bundle("%bench --gen 4 --prompt 'Hello world' --warmup 4");
        assertEquals(3, Llm.benchmarks(nb.session).size(), "the warm-up is not a run");
        assertTrue(nb.updates().getLast().text().startsWith("Benchmark synthetic:tiny on cpu:ref after a 4-token warm-up"), "the warm-up shows");
        nb.run("%reload --disable-pass FuseAddRmsNorm");
        MimeBundle all = nb.bundle("%bench --gen 4");
        assertPng(all);
        assertEquals(4, Llm.benchmarks(nb.session).size());
        String summary = all.text();
        assertTrue(summary.contains("cpu  synthetic:tiny q4f16_1 ") && summary.contains("(2 runs)"), summary);
        assertTrue(summary.contains("cpu:ref  synthetic:tiny q0f32 ") && summary.contains("cpu:ref  synthetic:tiny q0f32 -FuseAddRmsNorm"), summary);
        assertEquals(3, Llm.benchmarks(nb.session).categoryChart().getSeriesCollection().size(), "three configurations");

        nb.out.clear();
        assertPng(nb.bundle("%bench --show"));
        assertTrue(nb.shown().getFirst().text().contains("Benchmark runs"), nb.shown().getFirst().text());
        nb.run("%bench --clear");
        assertEquals(0, Llm.benchmarks(nb.session).size());
        assertTrue(nb.out.stdout().contains("Forgot 4 benchmark runs."));
    }

    @Test
    void badArgumentsAreClearErrors() throws Exception {
        assertEquals(Llm.NO_MODEL, assertThrows(MagicException.class, () -> nb.run("%bench --gen 4")).getMessage());
        nb.run("%load synthetic:tiny --max-context 64");
        assertEquals("%bench: --gen must be positive, found 0", assertThrows(MagicException.class, () -> nb.run("%bench --gen 0")).getMessage());
        assertEquals("%bench: --runs must be positive, found -2", assertThrows(MagicException.class, () -> nb.run("%bench --runs -2")).getMessage());
        assertEquals("%bench: --warmup must be >= 0, found -1", assertThrows(MagicException.class, () -> nb.run("%bench --warmup -1")).getMessage());
        assertEquals(0, Llm.benchmarks(nb.session).size());
        nb.run("%bench --gen 100");
        assertTrue(nb.out.stderr().startsWith("%bench: run 1 decoded 62 of 100 tokens: the context window (64 tokens) is full."),
                nb.out.stderr());
    }

    @Test
    void anEmptyHistoryStillDraws() {
        var history = new BenchHistory();
        assertPng(history.chart());
        assertEquals("decode tok/s (mean of runs):", history.summary());
    }
}
