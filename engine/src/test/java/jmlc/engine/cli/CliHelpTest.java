package jmlc.engine.cli;

import jmlc.compiler.pass.Pass;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.engine.model.SyntheticModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --version, help, every command's --help, devices; and the lists in the help text stay true. */
class CliHelpTest {

    @Test
    void version() {
        CliRun r = CliRun.run("--version");
        assertEquals(0, r.exit());
        assertTrue(r.out().startsWith("jmlc "), r.out());
        assertTrue(r.out().contains("Java " + Runtime.version()), r.out());
    }

    @Test
    void overviewListsEveryCommand() {
        for (String[] args : new String[][] {{}, {"help"}, {"--help"}}) {
            CliRun r = CliRun.run(args);
            assertEquals(0, r.exit(), r.toString());
            for (String c : new String[] {"demo", "chat", "bench", "generate", "logits", "tokenize", "compile", "tune", "devices", "help"})
                assertTrue(r.out().contains("\n  " + c + " "), c + " in:\n" + r.out());
            assertTrue(r.out().contains("Exit codes: 0 ok, 1 failure, 2 usage error."), r.out());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo", "chat", "bench", "generate", "logits", "tokenize", "compile", "tune", "devices"})
    void everyCommandHasHelp(String command) {
        // picocli formats descriptions (String.format): a bare % ("1% faster", "%kernels") is a WARN on System.err
        // and the text unformatted
        java.io.PrintStream sysErr = System.err;
        var picocli = new java.io.ByteArrayOutputStream();
        CliRun r;
        try {
            System.setErr(new java.io.PrintStream(picocli, true, java.nio.charset.StandardCharsets.UTF_8));
            r = CliRun.run(command, "--help");
        } finally {
            System.setErr(sysErr);
        }
        assertFalse(picocli.toString(java.nio.charset.StandardCharsets.UTF_8).contains("picocli WARN"), picocli.toString(java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("Usage: jmlc " + command), r.out());
        assertTrue(r.out().contains("--debug"), "inherited options are listed");
        assertEquals(r.out(), CliRun.run("help", command).out(), "'jmlc help " + command + "' says the same");
    }

    @Test
    void helpListsTheSyntheticModelsAndPassesThatExist() {
        String help = CliRun.run("chat", "--help").out().replaceAll("\\s+", " ");
        for (String name : SyntheticModels.catalog().keySet()) assertTrue(help.contains("synthetic:" + name), name);
        long listed = java.util.regex.Pattern.compile("synthetic:[a-z0-9][a-z0-9.-]*[a-z0-9]").matcher(help).results().map(m -> m.group()).distinct().count();
        assertEquals(SyntheticModels.catalog().size(), listed, help);
        for (Pass p : Pipeline.standard(QuantMode.Q4F16_1)) {
            if (p.name().startsWith("QuantizeWeights")) continue; // switched by --quant, not listed
            assertTrue(help.contains(p.name()), p.name());
        }
        for (QuantMode q : QuantMode.values()) assertTrue(help.contains(q.id()), q.id());
    }

    /** Said plainly where users look: what has run where for AMD GPUs. */
    @Test
    void devicesHelpSaysWhatHasRunOnAmdHardware() {
        CliRun r = CliRun.run("devices", "--help");
        assertEquals(0, r.exit(), r.toString());
        String help = r.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("nothing has run on AMD hardware yet") && help.contains("gfx1100") && help.contains("gfx942")
                && help.contains("bench/rocm-on-cuda.sh") && help.contains("bench/rocm-suite.sh"), help);
    }

    @Test
    void devices() {
        CliRun r = CliRun.run("devices");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.outLines().getFirst().matches("cpu +.*\\(default: --device auto\\)"), r.out());
        assertTrue(r.out().contains("cores: " + Runtime.getRuntime().availableProcessors()), r.out());
        assertTrue(r.out().contains("\ncpu:ref "), r.out());
        var json = CliFixtures.json(CliRun.run("devices", "--json").out());
        assertEquals("cpu", json.get(0).get("id").textValue());
        assertEquals("cpu", json.get(0).get("backend").textValue());
    }

    /** A backend that finds no device says why (here, without an NVIDIA driver: CUDA); the help promises no backend jmlc lacks. */
    @Test
    void devicesSayWhyABackendFoundNoneAndPromiseOnlyRealBackends() {
        CliRun r = CliRun.run("devices");
        for (jmlc.engine.runtime.Backend b : jmlc.engine.api.Backends.all()) {
            if (!b.detect().isEmpty()) continue;
            String why = b.unavailable();
            assertFalse(why.isEmpty(), b.name() + " finds no device and does not say why");
            assertTrue(r.outLines().contains("no " + b.name() + " device: " + why), r.out());
        }
        String help = CliRun.run("devices", "--help").out().replaceAll("\\s+", " ");
        var names = jmlc.engine.api.Backends.all().stream().map(jmlc.engine.runtime.Backend::name).toList();
        java.util.Map<String, String> known = java.util.Map.of("cuda", "CUDA", "rocm", "ROCm", "vulkan", "Vulkan");
        known.forEach((name, shown) -> assertEquals(names.contains(name), help.contains(shown), shown + " in the help: " + help));
        assertTrue(help.contains("for a backend that finds none, why"), help);
    }
}
