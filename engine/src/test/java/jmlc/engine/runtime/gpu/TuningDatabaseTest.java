package jmlc.engine.runtime.gpu;

import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class TuningDatabaseTest {

    @Test
    void readsKnobsBySignatureAndTargetAndRejectsBadLines(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("knobs.properties");
        Files.writeString(f, """
                # tuned on an H100
                attention_decode_h32_kv32_d128_c4096_f16.splits=8
                gemvh_q4f16g32z7122884096_12288x4096.rows_per_warp = 4
                gemvh_q4f16g32z7122884096_12288x4096@cuda:sm_90.rows_per_warp=8
                gemvh_q4f16g32z7122884096_12288x4096@cuda:sm_90.unroll=1
                """);
        var k = TuningDatabase.load(f);
        Target h100 = Target.parse("cuda:sm_90"), mi250 = Target.parse("rocm:gfx90a");
        assertEquals(Map.of("splits", 8), k.values(new KernelSignature("attention_decode", "h32_kv32_d128_c4096_f16", mi250)), "a signature without a target holds for every target");
        assertEquals(Map.of("rows_per_warp", 8, "unroll", 1), k.values(new KernelSignature("gemvh", "q4f16g32z7122884096_12288x4096", h100)),
                "the target's own entry wins knob by knob");
        assertEquals(Map.of("rows_per_warp", 4), k.values(new KernelSignature("gemvh", "q4f16g32z7122884096_12288x4096", mi250)));
        assertEquals(Map.of(), k.values(new KernelSignature("gemm", "q4f16g32z7122884096_12288x4096", h100)), "unset knobs keep the rule's default");
        Files.writeString(f, "x.splits=eight\n");
        var e = assertThrows(IllegalArgumentException.class, () -> TuningDatabase.load(f));
        assertTrue(e.getMessage().contains("x.splits") && e.getMessage().contains("eight") && e.getMessage().contains("line 1"), e.getMessage());
        Files.writeString(f, "\n\nnovalue\n");
        e = assertThrows(IllegalArgumentException.class, () -> TuningDatabase.load(f));
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
    }
}
