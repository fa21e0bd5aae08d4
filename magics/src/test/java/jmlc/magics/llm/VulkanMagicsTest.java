package jmlc.magics.llm;

import jmlc.engine.api.Backends;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The magics with a model on a Vulkan device (lavapipe in CI; skipped where there is none):
 * %device chooses it, %load puts the model there, %%chat and %bench run on it, %kernels and %source
 * show the GLSL it runs.
 */
class VulkanMagicsTest {
    final Notebook nb = new Notebook();

    @AfterEach
    void close() {
        nb.close();
    }

    @Test
    void aModelOnVulkanChatsBenchmarksAndShowsItsGlsl() throws Exception {
        String id;
        try {
            id = Backends.resolve("vulkan").device().id();
        } catch (IllegalArgumentException e) {
            Assumptions.abort("no Vulkan device here: " + e.getMessage());
            return;
        }
        nb.run("%device vulkan");
        assertTrue(nb.out.stdout().contains("Later %load commands use vulkan."), nb.out.stdout());
        nb.run("%load synthetic:tiny --max-context 64");
        assertEquals(id, Llm.model(nb.session).model().runner().device().id());
        assertNull(nb.run("%%chat --max-tokens 4 --temperature 0\nHello"));
        assertTrue(nb.bundle("%bench --gen 4 --runs 1").text().contains("decode"), "a benchmark on " + id);
        String kernels = nb.bundle("%kernels").text();
        assertTrue(kernels.contains(" for vulkan:"), kernels);
        String source = nb.bundle("%source 1").text();
        assertTrue(source.contains(".comp (vulkan:") && source.contains("#version 450"), source);
    }
}
