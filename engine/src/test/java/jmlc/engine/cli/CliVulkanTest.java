package jmlc.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import jmlc.engine.api.Backends;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The commands with {@code --device vulkan} (lavapipe in CI; skipped where there is no Vulkan
 * device): the same greedy tokens and logits as the CPU for a q0f32 model in a real format, a chat
 * turn, a benchmark, and the devices list saying what it found.
 */
class CliVulkanTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void requireVulkan() {
        boolean found;
        try {
            Backends.resolve("vulkan");
            found = true;
        } catch (IllegalArgumentException e) {
            found = false;
        }
        Assumptions.assumeTrue(found, "no Vulkan device here (apt-get install mesa-vulkan-drivers libvulkan1 for lavapipe)");
        model = CliFixtures.hfModel(dir.resolve("hf"));
    }

    @Test
    void generateGivesTheCpusGreedyTokens() {
        String[] args = {"generate", model.toString(), "--quant", "q0f32", "--tokens", "1,450,4996", "--max-tokens", "8", "--greedy", "--ignore-eos", "--json", "-q", "--device"};
        CliRun gpu = CliRun.run(concat(args, "vulkan")), cpu = CliRun.run(concat(args, "cpu"));
        assertEquals(0, gpu.exit(), gpu.toString());
        assertArrayEquals(CliFixtures.ints(CliFixtures.json(cpu.out()).get("tokens")), CliFixtures.ints(CliFixtures.json(gpu.out()).get("tokens")), gpu.out());
    }

    @Test
    void logitsOfEveryPositionAgreeWithTheCpu() {
        String[] args = {"logits", model.toString(), "--quant", "q0f32", "--tokens", "1,450,4996", "-q", "--device"};
        JsonNode gpu = CliFixtures.json(CliRun.run(concat(args, "vulkan")).out()).get("logits"), cpu = CliFixtures.json(CliRun.run(concat(args, "cpu")).out()).get("logits");
        assertEquals(3, gpu.size());
        for (int p = 0; p < 3; p++) {
            double d = 0, n = 0;
            for (int i = 0; i < cpu.get(p).size(); i++) {
                double a = gpu.get(p).get(i).doubleValue(), b = cpu.get(p).get(i).doubleValue();
                d += (a - b) * (a - b);
                n += b * b;
            }
            assertTrue(Math.sqrt(d / n) < 1e-4, "position " + p + ": relative error " + Math.sqrt(d / n));
        }
    }

    @Test
    void chatAndBenchRunOnVulkan() {
        CliRun chat = CliRun.withInput("Hi\n", "chat", model.toString(), "--device", "vulkan", "--max-tokens", "3", "--greedy", "-q");
        assertEquals(0, chat.exit(), chat.toString());
        assertFalse(chat.out().isBlank(), chat.toString());
        CliRun bench = CliRun.run("bench", "synthetic:tiny", "--device", "vulkan", "--gen", "8", "--max-context", "64", "--runs", "1");
        assertEquals(0, bench.exit(), bench.toString());
        assertTrue(bench.out().contains("decode:"), bench.toString());
        assertTrue(bench.err().contains("vulkan:"), "loads onto a Vulkan device: " + bench.err());
    }

    @Test
    void devicesSayWhatVulkanFound() {
        CliRun r = CliRun.run("devices");
        assertEquals(0, r.exit(), r.toString());
        String id = Backends.resolve("vulkan").device().id();
        assertTrue(r.out().contains(id), r.out());
    }

    private static String[] concat(String[] a, String last) {
        String[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = last;
        return out;
    }
}
