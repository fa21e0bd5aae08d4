package jmlc.compiler.tune;

import jmlc.compiler.TinyModel;
import jmlc.compiler.build.Build;
import jmlc.compiler.interp.ReferenceInterpreter;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.Value;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.model.ModelGraph;
import jmlc.compiler.pass.Pipeline;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** A region cut out of a model computes what its nodes compute in the model, and its rules make the same kernel signatures. */
class RegionTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run

    @Test
    void eachTasksRegionComputesWhatItsNodesDoInTheModel() {
        ModelConfig c = TinyModel.config(Architecture.LLAMA, 2, 4, 2, false);
        Graph unfused = ModelGraph.build(c, new ModelGraph.Options(16, QuantMode.Q4F16_1.kvCacheType(), false));
        Graph g = new Pipeline(Pipeline.standard(QuantMode.Q4F16_1), Set.of(), 8).run(unfused).graph();
        TinyModel m = new TinyModel(c, unfused, SEED);
        Target t = Target.parse("cuda:sm_90");
        Build b = Build.compile(g, t, Knobs.defaults(), 8);
        List<TuningTask> tasks = Tasks.extract(b, Knobs.defaults(), 8, 5, s -> true);
        assertFalse(tasks.isEmpty());
        try (Arena arena = Arena.ofShared()) {
            var modelWeights = m.weights(g, arena);
            // the model's values at every node, decode at position 5 after a prompt of 5 tokens
            ReferenceInterpreter ref = new ReferenceInterpreter(g, modelWeights);
            ReferenceInterpreter.State st = new ReferenceInterpreter.State();
            Random r = new Random(SEED);
            ref.run(r.ints(5, 0, c.vocabSize()).toArray(), 0, st);
            Map<Value, float[]> before = new IdentityHashMap<>();
            for (Value s : g.states()) before.put(s, st.get(s));
            Map<Value, float[]> seen = new IdentityHashMap<>();
            int[] token = {r.nextInt(c.vocabSize())};
            ref.run(token, 5, st, (node, outs) -> {
                for (int i = 0; i < outs.length; i++) seen.put(node.output(i), outs[i].clone());
            });
            for (TuningTask task : tasks) {
                if (!task.decode()) continue;
                Graph region = task.region();
                // the region's rules name the same kernel signature
                Build rb = Build.compile(region, t, Knobs.defaults(), 1);
                assertTrue(rb.decode().tunables().stream().anyMatch(x -> x.space().signature().equals(task.signature())), task.toString());
                // fed what its nodes read in the model, it computes what they computed there
                Map<String, Value> byName = new java.util.HashMap<>();
                for (Node n : g.nodes()) for (Value o : n.outputs()) byName.putIfAbsent(o.name(), o);
                Map<Value, float[]> inputs = new IdentityHashMap<>();
                for (Value in : region.inputs()) if (!in.name().equals("tokens") && !in.name().equals("pos")) inputs.put(in, seen.get(byName.get(in.name())));
                ReferenceInterpreter.State rs = new ReferenceInterpreter.State();
                for (Value s : region.states()) rs.set(s, before.get(g.state(s.name())));
                Map<String, float[]> got = new java.util.HashMap<>();
                new ReferenceInterpreter(region, p -> modelWeights.apply(g.param(p.name()))).run(token, 5, rs, inputs,
                        (node, outs) -> { for (int i = 0; i < outs.length; i++) got.put(node.output(i).name(), outs[i]); });
                for (Value o : region.outputs())
                    assertArrayEquals(seen.get(byName.get(o.name())), got.get(o.name()), task + ": output " + o.name());
                for (Value s : region.stateUpdates().keySet())
                    assertArrayEquals(st.get(g.state(s.name())), rs.get(s), task + ": cache " + s.name());
                boolean attention = region.nodes().stream().anyMatch(n -> n.op() instanceof Op.Attention);
                if (attention) assertEquals(2, region.nodes().size(), "the decode attention's region holds the rope_kv_append it absorbs: " + region.nodes());
            }
        }
    }
}
