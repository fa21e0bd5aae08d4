package jmlc.engine.runtime.gpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class TuningDatabaseTest {

    @Test
    void readsKnobsBySignatureAndRejectsBadLines(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("knobs.properties");
        Files.writeString(f, "# tuned on an H100\nattention_decode_h32_kv32_d128_c4096_f16.splits=8\ngemvh_q4f16g32z7122884096_12288x4096.rows_per_warp = 4\n");
        var k = TuningDatabase.load(f);
        assertEquals(8, k.get("attention_decode_h32_kv32_d128_c4096_f16", "splits", 32));
        assertEquals(4, k.get("gemvh_q4f16g32z7122884096_12288x4096", "rows_per_warp", 2));
        assertEquals(2, k.get("gemvh_q4f16g32z7122884096_12288x4096", "unroll", 2), "unset knobs keep the default");
        Files.writeString(f, "x.splits=eight\n");
        var e = assertThrows(IllegalArgumentException.class, () -> TuningDatabase.load(f));
        assertTrue(e.getMessage().contains("x.splits") && e.getMessage().contains("eight"), e.getMessage());
    }
}
