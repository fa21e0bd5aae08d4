package jmlc.engine.runtime;

import jmlc.engine.api.Backends;
import jmlc.engine.api.LoadOptions;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Runtime settings live in LoadOptions; the environment variables may still override them; bad values are clear errors. */
class RuntimeSettingsTest {

    @Test
    void loadOptionsCarryTheSettingsAndTheEnvironmentOverridesThem() {
        LoadOptions o = LoadOptions.defaults().decodeAhead(0);
        assertEquals(new RuntimeSettings(0, null), o.runtime(), "dependent launches as each decode program asks");
        assertEquals(new RuntimeSettings(0, null), o.runtime().withEnvironment(Map.of()), "nothing set: the options stand");
        assertEquals(new RuntimeSettings(5, true), o.runtime().withEnvironment(Map.of("JMLC_DECODE_AHEAD", "5", "JMLC_PDL", "1")));
        assertEquals(new RuntimeSettings(0, false), o.runtime().programmaticLaunch(true).withEnvironment(Map.of("JMLC_PDL", "0")));
        assertEquals(RuntimeSettings.DEFAULT_DECODE_AHEAD, LoadOptions.defaults().runtime().decodeAhead());
        var e = assertThrows(IllegalArgumentException.class, () -> LoadOptions.defaults().decodeAhead(9));
        assertTrue(e.getMessage().contains("0 to 8") && e.getMessage().contains("9"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RuntimeSettings.defaults().withEnvironment(Map.of("JMLC_DECODE_AHEAD", "two")));
        assertTrue(e.getMessage().startsWith("JMLC_DECODE_AHEAD") && e.getMessage().contains("'two'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RuntimeSettings.defaults().withEnvironment(Map.of("JMLC_PDL", "yes")));
        assertTrue(e.getMessage().startsWith("JMLC_PDL"), e.getMessage());
        assertEquals(4, RuntimeSettings.defaults().withEnvironment(Map.of("JMLC_PERSISTENT", "4")).persistentKernels());
        assertEquals(0, RuntimeSettings.defaults().persistentKernels(), "by default the tuning database decides");
        e = assertThrows(IllegalArgumentException.class, () -> RuntimeSettings.defaults().withEnvironment(Map.of("JMLC_PERSISTENT", "65")));
        assertTrue(e.getMessage().startsWith("JMLC_PERSISTENT") && e.getMessage().contains("'65'"), e.getMessage());
    }

    @Test
    void aSimulatedGpuIsFoundOnlyWhenNamed() {
        assertTrue(Backends.detect().stream().noneMatch(d -> d.id().startsWith("sim")), "auto never picks the simulator");
        var r = Backends.resolve("sim:rocm:gfx1100");
        assertEquals("sim:rocm:gfx1100", r.device().id());
        assertEquals("32", r.device().properties().get("subgroup size"));
        var e = assertThrows(IllegalArgumentException.class, () -> Backends.resolve("sim:metal:m3"));
        assertTrue(e.getMessage().contains("metal"), e.getMessage());
    }
}
