package jmlc.engine.model;

import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The memory a model needs against what is free: figures, and the message that refuses. */
class MemoryCheckTest {

    /** The case: Llama-2-13B's shapes in q0f32 are about 52 GB of weights, far beyond a 24 GiB machine. */
    @Test
    void llama2_13bInF32NeedsAbout52GB() {
        ModelConfig c = SyntheticModels.require("synthetic:llama-2-13b");
        CompiledModel m = CompiledModel.compile(c, QuantMode.Q0F32, 4096, false, Set.of(), 512);
        MemoryCheck.Need need = MemoryCheck.need(m, ModelWeights.bytesOf(m.graph()));
        assertEquals(52.1e9, need.weights(), 0.01 * 52.1e9);
        assertEquals(2L * 40 * 40 * 4096 * 128 * 4, need.kvCache(), "K and V, 40 layers, 40 heads of 128, 4096 positions, f32");
        var free = new MemoryCheck.Available(24L << 30, "MemAvailable in /proc/meminfo");
        var e = assertThrows(MemoryCheck.NotEnoughMemoryException.class, () -> MemoryCheck.require("synthetic:llama-2-13b (q0f32)", "the host", need, free, MemoryCheck.advice(m)));
        assertEquals("synthetic:llama-2-13b (q0f32) needs about 58.8 GB of memory on the host (weights 52.1 GB, KV cache 6.7 GB, activations 0.1 GB)"
                + " but 25.8 GB is free (MemAvailable in /proc/meminfo): use a 4-bit --quant (q4f16_1: about 7.3 GB of weights), a smaller model,"
                + " or a smaller --max-context (now 4096); or set JMLC_MEMORY_CHECK=off to load anyway", e.getMessage());
        assertDoesNotThrow(() -> MemoryCheck.require("x", "the host", need, new MemoryCheck.Available(need.total(), "test"), ""));
    }

    @Test
    void theHostsFreeMemoryIsRead() {
        var free = MemoryCheck.host();
        if (System.getProperty("os.name").toLowerCase().contains("linux")) {
            assertTrue(free.isPresent(), "Linux has /proc/meminfo");
            assertTrue(free.get().bytes() > 0 && free.get().bytes() < Runtime.getRuntime().maxMemory() * 1000, free.get().toString());
        }
    }
}
