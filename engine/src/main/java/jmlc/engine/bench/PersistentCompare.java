package jmlc.engine.bench;

import jmlc.compiler.build.PersistentDecode;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.KernelCall;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.schedule.Program;
import jmlc.engine.api.Backends;
import jmlc.engine.api.ModelLoader;
import jmlc.engine.generate.GenerationConfig;
import jmlc.engine.generate.Generator;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.Progress;
import jmlc.engine.model.SyntheticModels;
import jmlc.engine.model.SyntheticWeights;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.gpu.GpuBackend;
import jmlc.engine.runtime.gpu.GpuDiagnostics;
import jmlc.engine.runtime.gpu.GpuRunner;
import jmlc.engine.sampling.SamplingParams;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Persistent decode kernels against kernel-by-kernel launches ({@link PersistentDecode}), on one device in
 * one process: for each value of the knob {@code kernels} (1 is today's launch a kernel), the model is
 * loaded with it and (1) checked: a prompt's prefill and 16 decode steps give the same logits, bit for bit,
 * as with {@code kernels} 1 (a fused kernel runs its members' code row for row; a difference means a
 * missing barrier or a stale read), and greedy decoding the same tokens; (2) timed: one captured decode
 * step (device time over 100 replays) at several positions, and the seed protocol's decode tok/s (a
 * 1-token prompt, 512 greedy tokens, the second of two runs).
 *
 * <pre>java ... jmlc.engine.bench.PersistentCompare [--device cuda:0] [--model synthetic:llama-2-7b] [--quant q4f16_1]
 *     [--kernels 1,2,4,8] [--positions 0,256,1024] [--tokens 512] [--replays 100] [--gemv prefetch=1,pipeline=2]</pre>
 * {@code --gemv} sets knobs of every f16 GEMV for every value alike: {@code prefetch} 1 or 2 and {@code pipeline} 2 load
 * weights before a GEMV waits for its input, which a persistent kernel issues before its grid barrier.
 * {@code --tokens} and {@code --replays} shrink the run for a simulated device ({@code --device sim:cuda:sm_90 --model synthetic:tiny}).
 */
public final class PersistentCompare {
    public static void main(String[] args) {
        String device = "cuda:0", model = "synthetic:llama-2-7b";
        QuantMode quant = QuantMode.Q4F16_1;
        List<Integer> values = List.of(1, 2, 4, 8), positions = List.of(0, 256, 1024);
        int generate = 512, replays = 100;
        Map<String, Integer> gemv = new java.util.LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = args[++i];
                case "--model" -> model = args[++i];
                case "--quant" -> quant = QuantMode.parse(args[++i]);
                case "--kernels" -> values = Arrays.stream(args[++i].split(",")).map(s -> Integer.parseInt(s.strip())).toList();
                case "--positions" -> positions = Arrays.stream(args[++i].split(",")).map(s -> Integer.parseInt(s.strip())).toList();
                case "--tokens" -> generate = Integer.parseInt(args[++i]);
                case "--replays" -> replays = Integer.parseInt(args[++i]);
                case "--gemv" -> {
                    for (String kv : args[++i].split(",")) gemv.put(kv.split("=")[0].strip(), Integer.parseInt(kv.split("=")[1].strip()));
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; expected --device, --model, --quant, --kernels, --positions, --tokens, --replays, --gemv");
            }
        }
        if (values.isEmpty() || values.getFirst() != 1) {
            List<Integer> v = new ArrayList<>(List.of(1));
            v.addAll(values.stream().filter(x -> x != 1).toList());
            values = v; // kernel by kernel first: the reference the others are checked against
        }
        Backends.Resolved dev = Backends.resolve(device);
        if (!(dev.backend() instanceof GpuBackend gpu)) throw new IllegalArgumentException(device + " is not a GPU");
        ModelConfig config = SyntheticModels.require(model);
        int ctx = Math.min(config.maxPositions(), ModelLoader.DEFAULT_MAX_CONTEXT);
        CompiledModel compiled = CompiledModel.compile(config, quant, quant.kvCacheType(null), ctx, false, Set.of(), ModelLoader.MAX_STEP_TOKENS);
        Random rnd = new Random(1);
        int[] prompt = rnd.ints(16, 3, config.vocabSize()).toArray(), steps = rnd.ints(16, 3, config.vocabSize()).toArray();
        System.out.printf(Locale.ROOT, "%s %s on %s: decode launches fused into persistent kernels (%s.kernels)%n", model, quant, dev.device().name(), PersistentDecode.KIND);
        if (!gemv.isEmpty()) System.out.println("every f16 GEMV with " + gemv);
        System.out.printf(Locale.ROOT, "%8s %9s %9s %13s %14s   %s%n", "kernels", "launches", "fused", "same logits", "decode tok/s", "step ms at positions " + positions);
        List<float[]> reference = null;
        int[] referenceTokens = null;
        try (SyntheticWeights w = new SyntheticWeights(compiled.graph(), 7, Progress.NONE)) {
            // the f16 GEMVs' knobs, for every value alike (e.g. prefetch=1: their first tile asked of the L2 before they wait)
            Knobs gemvKnobs = Knobs.defaults();
            if (!gemv.isEmpty())
                for (var t : jmlc.compiler.build.Build.compile(compiled.graph(), jmlc.compiler.target.Target.parse("cuda:sm_90"), Knobs.defaults(), compiled.maxStepTokens()).decode().tunables())
                    if (t.space().signature().kind().equals("gemvh")) gemvKnobs.put(t.space().signature().key(), gemv);
            for (int kernels : values) {
                Knobs knobs = Knobs.defaults().with(gemvKnobs).put(PersistentDecode.KIND, Map.of("kernels", kernels));
                try (GpuRunner r = gpu.load(compiled, w, dev.device(), RuntimeSettings.defaults(), knobs, Progress.NONE)) {
                    Program p = r.decodeProgram();
                    long fused = p.launched().stream().map(KernelCall::kernel).filter(k -> k.gridBarriers()).count();
                    List<float[]> logits = new ArrayList<>();
                    logits.add(r.forward(prompt, 0));
                    for (int i = 0; i < steps.length; i++) logits.add(r.forward(new int[] {steps[i]}, prompt.length + i));
                    GenerationConfig greedy = new GenerationConfig(generate, SamplingParams.GREEDY, Set.of(), true);
                    int[] tokens = Generator.generate(r, new int[0], 0, new int[] {1}, greedy, t -> { }, () -> false).tokens();
                    double tokS = Generator.generate(r, new int[0], 0, new int[] {1}, greedy, t -> { }, () -> false).stats().decodeTokensPerSecond();
                    String same;
                    if (reference == null) {
                        reference = logits;
                        referenceTokens = tokens;
                        same = "reference";
                    } else {
                        float worst = 0;
                        for (int i = 0; i < logits.size(); i++)
                            for (int j = 0; j < logits.get(i).length; j++) worst = Math.max(worst, Math.abs(logits.get(i)[j] - reference.get(i)[j]));
                        same = (worst == 0 ? "yes" : String.format(Locale.ROOT, "NO (%.3g)", worst)) + (Arrays.equals(tokens, referenceTokens) ? "" : ", tokens differ");
                    }
                    GpuDiagnostics d = new GpuDiagnostics(r);
                    StringBuilder times = new StringBuilder();
                    for (int pos : positions)
                        if (pos < ctx) times.append(String.format(Locale.ROOT, " %.4f", d.decodeStepMillisAt(pos, pos < r.build().shortContext(), replays)));
                    System.out.printf(Locale.ROOT, "%8d %9d %9d %13s %14.1f  %s%n", kernels, p.launches(), fused, same, tokS, times);
                    // the fused kernels as the driver compiled them: registers, blocks an SM, the grid launched
                    d.decodeLaunchStatistics().forEach((name, stats) -> {
                        if (name.startsWith("persistent")) System.out.println("           " + name + ": " + stats);
                    });
                }
            }
        }
    }
}
