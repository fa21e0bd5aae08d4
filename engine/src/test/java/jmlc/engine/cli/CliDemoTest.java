package jmlc.engine.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jmlc demo}: load, two chat turns, a benchmark, next steps; quick on the CPU. */
class CliDemoTest {

    @Test
    void demoRunsItsThreeSteps() {
        long t0 = System.nanoTime();
        CliRun r = CliRun.run("demo", "--gen", "16", "--reply-tokens", "6");
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r.exit(), r.toString());
        String out = r.out();
        assertTrue(out.startsWith("jmlc demo: synthetic:tiny on cpu"), out);
        for (String s : new String[] {"1. load", "2. chat", "3. benchmark: 1-token prompt, 16 greedy decoded tokens",
                "user:      " + DemoCommand.TURNS.get(0), "user:      " + DemoCommand.TURNS.get(1), "prefill:  ", "decode:   ", "roofline: ", "next: jmlc chat"})
            assertTrue(out.contains(s), s + " in:\n" + out);
        assertEquals(2, out.lines().filter(l -> l.startsWith("   assistant: ")).count(), out);
        assertTrue(r.err().contains("bandwidth "), "the CPU's bandwidth is measured:\n" + r.err());
        assertTrue(seconds < 60, "the demo took " + seconds + " s");
    }

    @Test
    void demoChecksItsOptions() {
        CliRun r = CliRun.run("demo", "--model", "synthetic:huge");
        assertEquals(Errors.USAGE, r.exit(), r.toString());
        CliErrorsTest.assertOneErrorLine(r, "unknown synthetic model 'synthetic:huge'");
    }
}
