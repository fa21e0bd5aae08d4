package jmlc.engine.bench;

import jmlc.compiler.build.ShortContextDecode;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.engine.api.Backends;
import jmlc.engine.api.ModelLoader;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.Progress;
import jmlc.engine.model.SyntheticModels;
import jmlc.engine.model.SyntheticWeights;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.gpu.GpuBackend;
import jmlc.engine.runtime.gpu.GpuDiagnostics;
import jmlc.engine.runtime.gpu.GpuRunner;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where the short-context decode program stops paying ({@link ShortContextDecode}): the device time
 * of one captured decode step of each program at positions across the context, on one device, with
 * the position where the split attention becomes the faster (what the platform's default threshold
 * should be).
 *
 * <pre>java ... jmlc.engine.bench.ShortContextSweep [--device vulkan:0] [--model synthetic:llama-2-7b] [--quant q4f16_1] [--kv-cache f16|i8]
 *     [--attention knob=value,...] [--positions 0,64,...]</pre>
 * {@code --attention} sets knobs of the decode attention (both programs), e.g. {@code wide=1}.
 */
public final class ShortContextSweep {
    public static void main(String[] args) {
        String device = "vulkan:0", model = "synthetic:llama-2-7b";
        QuantMode quant = QuantMode.Q4F16_1;
        jmlc.compiler.ir.DType kv = null;
        Map<String, Integer> attention = new java.util.LinkedHashMap<>();
        List<Integer> positions = List.of(0, 64, 128, 256, 384, 512, 640, 768, 1024, 1536, 2048, 3072, 4000);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = args[++i];
                case "--model" -> model = args[++i];
                case "--quant" -> quant = QuantMode.parse(args[++i]);
                case "--positions" -> positions = java.util.Arrays.stream(args[++i].split(",")).map(Integer::parseInt).toList();
                case "--kv-cache" -> kv = jmlc.engine.api.LoadOptions.parseKvCache(args[++i]);
                case "--attention" -> {
                    for (String kvp : args[++i].split(",")) attention.put(kvp.split("=")[0].strip(), Integer.parseInt(kvp.split("=")[1].strip()));
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; expected --device, --model, --quant, --kv-cache, --attention, --positions");
            }
        }
        Backends.Resolved dev = Backends.resolve(device);
        if (!(dev.backend() instanceof GpuBackend gpu)) throw new IllegalArgumentException(device + " is not a GPU");
        ModelConfig config = SyntheticModels.require(model);
        int ctx = Math.min(config.maxPositions(), ModelLoader.DEFAULT_MAX_CONTEXT);
        CompiledModel compiled = CompiledModel.compile(config, quant, quant.kvCacheType(kv), ctx, false, Set.of(), ModelLoader.MAX_STEP_TOKENS);
        // the short-context program at every position (an entry for every target), so both can be timed anywhere
        Knobs knobs = Knobs.defaults().put(ShortContextDecode.KIND, Map.of("positions", ctx));
        for (var n : compiled.graph().nodes())
            if (n.op() instanceof jmlc.compiler.ir.Op.Attention && !attention.isEmpty())
                knobs.put(jmlc.compiler.schedule.KernelSignature.key(jmlc.compiler.schedule.rule.AttentionDecodeRule.KIND, jmlc.compiler.schedule.rule.AttentionDecodeRule.shape(n)), attention);
        try (SyntheticWeights w = new SyntheticWeights(compiled.graph(), 7, Progress.NONE);
             GpuRunner r = gpu.load(compiled, w, dev.device(), RuntimeSettings.defaults(), knobs, Progress.NONE)) {
            GpuDiagnostics d = new GpuDiagnostics(r);
            System.out.printf(Locale.ROOT, "%s %s, KV cache %s%s, on %s (%s): one captured decode step, ms%n", model, quant, compiled.graph().states().getFirst().type().dtype(),
                    attention.isEmpty() ? "" : ", attention " + attention, dev.device().name(), r.target());
            System.out.printf(Locale.ROOT, "%8s %12s %12s %8s%n", "position", "split+combine", "one block", "gain");
            int crossover = -1;
            for (int pos : positions) {
                if (pos >= ctx) continue;
                double split = d.decodeStepMillisAt(pos, false, 50), single = d.decodeStepMillisAt(pos, true, 50);
                if (crossover < 0 && single > split) crossover = pos;
                System.out.printf(Locale.ROOT, "%8d %12.4f %12.4f %7.1f%%%n", pos, split, single, 100 * (split - single) / split);
            }
            System.out.println(crossover < 0 ? "the one-block attention was faster at every position timed"
                    : "the split attention is faster from position " + crossover + " on (of those timed)");
        }
    }
}
