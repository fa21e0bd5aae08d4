package jmlc.magics.llm;

import jmlc.compiler.build.Build;
import jmlc.compiler.build.PersistentDecode;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.compiler.target.Target;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.SyntheticModels;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@code %kernels} lists for a decode program whose GEMVs run fused into persistent kernels. */
class ProgramsTest {

    @Test
    void persistentKernelsAreListedWithTheirLaunchesAndTheirMembersWithNone() {
        CompiledModel m = CompiledModel.compile(SyntheticModels.require("synthetic:tiny"), QuantMode.Q4F16_1, 64, false, Set.of(), 8);
        Program p = Build.compile(m.graph(), Target.parse("cuda:sm_90"), Knobs.defaults().put(PersistentDecode.KIND, Map.of("kernels", 8)), 8).decode();
        List<Programs.Entry> entries = Programs.entries(p);
        assertEquals(p.launches(), entries.stream().mapToInt(Programs.Entry::launches).sum(), "the launches a step makes");
        var persistent = entries.stream().filter(e -> e.kernel().gridBarriers()).toList();
        assertTrue(!persistent.isEmpty() && persistent.stream().allMatch(e -> e.rule().equals(PersistentDecode.KIND) && e.launches() > 0), persistent.toString());
        // the o, gate/up and down GEMVs run only inside them; the first layer's qkv and the LM head on their own
        var members = entries.stream().filter(e -> e.rule().equals("gemv_f16") && e.launches() == 0).toList();
        assertEquals(3, members.size(), entries.toString());
    }
}
