package jmlc.engine.runtime.gpu;

import jmlc.compiler.build.Build;
import jmlc.compiler.kernel.Kernel;
import jmlc.compiler.model.ModelConfig;
import jmlc.compiler.quant.QuantMode;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.target.Target;
import jmlc.compiler.tune.Measurement;
import jmlc.compiler.tune.Measurer;
import jmlc.compiler.tune.TaskResult;
import jmlc.compiler.tune.Tasks;
import jmlc.compiler.tune.Tuner;
import jmlc.compiler.tune.TuningTask;
import jmlc.engine.api.LoadOptions;
import jmlc.engine.api.ModelTuning;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.TinyModels;
import jmlc.engine.model.CheckpointWeights;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.Progress;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.engine.runtime.RuntimeSettings;
import jmlc.engine.runtime.sim.SimulatedDevice;
import jmlc.engine.runtime.sim.SimulatorPlatform;
import jmlc.engine.tuning.TuningDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The whole tuning path on the kernel simulator ({@code sim:cuda:sm_90}), whose clock is modeled
 * from the warp instructions each kernel issues, block by block over the multiprocessors: a cost
 * that is the same every time, so the best knobs of a space are known by measuring all of it.
 */
class TuningSimulatedTest {
    static final Target SM90 = Target.parse("cuda:sm_90");

    static List<TuningTask> tasks(CompiledModel cm) {
        Build b = Build.compile(cm.graph(), SM90, Knobs.defaults(), cm.maxStepTokens());
        return Tasks.extract(b, Knobs.defaults(), cm.maxStepTokens(), 8, s -> true);
    }

    static CompiledModel tiny() {
        return CompiledModel.compile(GpuRunnerSimulatedTest.config(), QuantMode.Q4F16_1, 32, false, Set.of(), 16);
    }

    /** A measurer answering from measurements already taken (so a search can be replayed at no cost). */
    record Replay(Map<Map<String, Integer>, Measurement> table) implements Measurer {
        @Override
        public String describe() {
            return "replayed";
        }

        @Override
        public Session open(TuningTask task) {
            return new Session() {
                @Override
                public List<Measurement> measure(List<Map<String, Integer>> candidates, double bestMs) {
                    return candidates.stream().map(table::get).toList();
                }

                @Override
                public void close() {
                }
            };
        }
    }

    /**
     * The prefill GEMM's space measured whole on the simulator gives the known best (the fewest
     * modeled cycles); the evolutionary search, allowed 40% of the space, finds it, and the tuner
     * keeps it over the defaults.
     */
    @Test
    void theSearchFindsTheKnobsWithTheFewestModeledCycles() {
        TuningTask gemm = tasks(tiny()).stream().filter(t -> t.signature().kind().equals("gemm")).findFirst().orElseThrow();
        List<Map<String, Integer>> all = gemm.space().combinations();
        Map<Map<String, Integer>, Measurement> table = new HashMap<>();
        try (var session = new GpuMeasurer(new SimulatedDevice(SM90), GpuMeasurer.Settings.modeled()).open(gemm)) {
            List<Measurement> ms = session.measure(all, Double.POSITIVE_INFINITY);
            for (int i = 0; i < all.size(); i++) table.put(all.get(i), ms.get(i));
            Measurement again = session.measure(List.of(gemm.space().defaults()), Double.POSITIVE_INFINITY).getFirst();
            assertEquals(((Measurement.Timed) table.get(gemm.space().defaults())).ms(), ((Measurement.Timed) again).ms(), "the modeled clock gives the same figure every time");
        }
        assertTrue(table.values().stream().allMatch(m -> m instanceof Measurement.Timed), "every candidate passes its check: " + table.values());
        double best = table.values().stream().mapToDouble(m -> ((Measurement.Timed) m).ms()).min().orElseThrow();
        double defaults = ((Measurement.Timed) table.get(gemm.space().defaults())).ms();
        assertTrue(best < defaults * 0.99, "the defaults are not already the best on the simulator: " + best + " vs " + defaults);

        long[] clock = {0};
        Replay replay = new Replay(table);
        Measurer counted = new Measurer() {
            public String describe() {
                return replay.describe();
            }

            public Session open(TuningTask t) {
                Session s = replay.open(t);
                return new Session() {
                    public List<Measurement> measure(List<Map<String, Integer>> c, double b) {
                        clock[0] += c.size() * 1_000_000_000L;
                        return s.measure(c, b);
                    }

                    public void close() {
                    }
                };
            }
        };
        int budget = (int) (0.4 * all.size());
        TaskResult r = new Tuner(counted, Tuner.Settings.of(Duration.ofSeconds(budget)).exhaustiveUpTo(0).batch(4), Tuner.Listener.NONE, () -> clock[0])
                .tune(List.of(gemm)).results().getFirst();
        assertFalse(r.exhausted());
        assertTrue(r.timedCount() < all.size(), r.timedCount() + " of " + all.size());
        assertEquals(best, r.best().ms(), "found the fewest modeled cycles after " + r.timedCount() + " of " + all.size() + ": " + r.describeBest());
        assertTrue(r.improved());
    }

    /**
     * AMD targets tune through the same path: on the simulator at their wavefront, the tiled GEMM
     * (WMMA on gfx1100, MFMA at wave64 on gfx90a, dot2 on gfx1030's vector units) and the dot2 f16
     * GEMV pass their checks against the reference interpreter for the defaults and for other
     * candidates of their spaces, and are timed.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"rocm:gfx1100", "rocm:gfx90a", "rocm:gfx1030"})
    void amdTargetsTuneTheirGemmAndDot2Gemv(String target) {
        Target t = Target.parse(target);
        CompiledModel cm = tiny();
        Build b = Build.compile(cm.graph(), t, Knobs.defaults(), cm.maxStepTokens());
        List<TuningTask> tasks = Tasks.extract(b, Knobs.defaults(), cm.maxStepTokens(), 8, s -> true);
        String gemmKind = t.caps().matrix() == jmlc.compiler.kernel.Capabilities.MatrixUnit.NONE ? "gemms" : "gemmx";
        for (String kind : List.of(gemmKind, "gemvh")) {
            TuningTask task = tasks.stream().filter(x -> x.signature().kind().equals(kind)).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + kind + " task for " + target + " in " + tasks.stream().map(x -> x.signature().kind()).toList()));
            List<Map<String, Integer>> all = task.space().combinations(), candidates = new ArrayList<>(List.of(task.space().defaults()));
            for (int i = 0; i < all.size() && candidates.size() < 4; i += Math.max(1, all.size() / 3)) // others, spread over the space
                if (!candidates.contains(all.get(i))) candidates.add(all.get(i));
            assertTrue(candidates.size() > 1, task.signature() + ": a space of " + all.size());
            try (var session = new GpuMeasurer(new SimulatedDevice(t), GpuMeasurer.Settings.modeled()).open(task)) {
                List<Measurement> ms = session.measure(candidates, Double.POSITIVE_INFINITY);
                assertEquals(candidates.size(), ms.size());
                for (Measurement m : ms) assertInstanceOf(Measurement.Timed.class, m, task.signature() + ": " + m);
            }
        }
    }

    /**
     * A device that computes wrong results for every candidate with 2 warps a block: each is refused
     * by its check against the reference interpreter, and none of its kernels is ever timed.
     */
    @Test
    void everyCandidateIsCheckedBeforeItIsTimed() {
        TuningTask attention = tasks(tiny()).stream().filter(t -> t.signature().kind().equals("attention_decode")).findFirst().orElseThrow();
        FaultyDevice dev = new FaultyDevice(new SimulatedDevice(SM90), "_w2s");
        Tuner.Report report = new Tuner(new GpuMeasurer(dev, GpuMeasurer.Settings.modeled()), Tuner.Settings.of(Duration.ofMinutes(5)), Tuner.Listener.NONE)
                .tune(List.of(attention));
        TaskResult r = report.results().getFirst();
        assertTrue(r.exhausted());
        int twoWarps = 0;
        for (Measurement m : r.all()) {
            if (m.knobs().get("warps") == 2) {
                twoWarps++;
                assertInstanceOf(Measurement.Rejected.class, m, m.toString());
                assertTrue(((Measurement.Rejected) m).reason().startsWith("differs from the reference interpreter"), m.toString());
            } else {
                assertInstanceOf(Measurement.Timed.class, m, m.toString());
            }
        }
        assertTrue(twoWarps > 0);
        assertFalse(dev.corrupted.isEmpty(), "the faulty kernels ran (in their checks)");
        for (String k : dev.timed) assertFalse(k.contains("_w2s"), "a refused kernel was timed: " + k);
        assertNotEquals(2, r.best().knobs().get("warps"));
    }

    /** A model loaded after tuning compiles with the database's knobs; a corrupt database is a warning and the defaults. */
    @Test
    void theNextLoadUsesTheTunedKnobsAndACorruptDatabaseIsAWarning(@TempDir Path dir) throws Exception {
        String before = System.getProperty("jmlc.tuning");
        System.setProperty("jmlc.tuning", dir.resolve("tuning").toString());
        ModelConfig c = GpuRunnerSimulatedTest.config();
        try (Checkpoint ck = GpuRunnerSimulatedTest.tinyCheckpoint(dir.resolve("model"), c)) {
            LoadOptions load = LoadOptions.defaults().device("sim:cuda:sm_90").maxContext(32);
            var opts = new ModelTuning.Options(Duration.ofMinutes(5), "attention_decode", 8, 8, 1, 0);
            ModelTuning.Result result = ModelTuning.tune(dir.resolve("model").toString(), load, opts, Tuner.Listener.NONE, Progress.NONE);
            assertNotNull(result.database());
            var record = TuningDatabase.read(result.database(), null).records().getFirst();
            assertTrue(record.signature().startsWith("attention_decode_") && record.candidates() > 1 && record.bestMs() <= record.defaultMs(), record.toString());

            CompiledModel cm = CompiledModel.compile(c, QuantMode.Q4F16_1, 32, false, Set.of(), jmlc.engine.api.ModelLoader.MAX_STEP_TOKENS);
            GpuBackend backend = new GpuBackend(new SimulatorPlatform());
            DeviceInfo sim = backend.named("sim:cuda:sm_90").orElseThrow();
            List<String> warnings = new ArrayList<>();
            Progress collect = new Progress() {
                public void update(String stage, long done, long total) {
                }

                public void warn(String message) {
                    warnings.add(message);
                }
            };
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                 GpuRunner r = (GpuRunner) backend.load(cm, w, sim, RuntimeSettings.defaults(), collect)) {
                assertEquals(List.of(), warnings);
                var chosen = r.decodeProgram().tunables().stream().filter(t -> t.space().signature().toString().equals(record.signature())).findFirst().orElseThrow();
                assertEquals(record.knobs(), chosen.chosen(), "the runner compiled with the tuned knobs");
            }
            Files.writeString(result.database(), "{ \"jmlc_tuning\": 1, \"device\": ");
            try (CheckpointWeights w = new CheckpointWeights(ck, cm.graph());
                 GpuRunner r = (GpuRunner) backend.load(cm, w, sim, RuntimeSettings.defaults(), collect)) {
                assertEquals(1, warnings.size(), warnings.toString());
                assertTrue(warnings.getFirst().contains(result.database().toString()) && warnings.getFirst().contains("not valid JSON"), warnings.getFirst());
                var chosen = r.decodeProgram().tunables().stream().filter(t -> t.space().signature().toString().equals(record.signature())).findFirst().orElseThrow();
                assertEquals(chosen.space().defaults(), chosen.chosen(), "the defaults");
            }
        } finally {
            if (before == null) System.clearProperty("jmlc.tuning");
            else System.setProperty("jmlc.tuning", before);
        }
    }

    /**
     * On a target with dependent launches the decode-step stage runs after the per-kernel search: the whole
     * model's decode timed as tuned, then with each ring-and-trigger variant laid over the tuned GEMVs. The
     * database ends with the kept trial's knobs, and the next load compiles them (and, for a variant, launches
     * the decode step as programmatic dependents). Times on the simulator mean nothing; what is checked is the
     * stage's bookkeeping.
     */
    @Test
    void theDecodeStepStageKeepsWhatItChoseInTheDatabase(@TempDir Path dir) throws Exception {
        String before = System.getProperty("jmlc.tuning");
        System.setProperty("jmlc.tuning", dir.resolve("tuning").toString());
        try {
            LoadOptions load = LoadOptions.defaults().device("sim:cuda:sm_90").maxContext(32).decodeAhead(0);
            // 2 layers 64 wide with a vocabulary of 300 (a 32000-row LM head is most of a simulated step) and a tokenizer.json of 300 ids
            String model = jmlc.engine.api.HostileModelDirs.withSilentTokenizer(dir.resolve("model"), 300 - 256,
                    TinyModels.random(GpuRunnerSimulatedTest.config(), 3)).toString();
            var opts = new ModelTuning.Options(Duration.ofSeconds(5), "gemvh", 8, 8, 1, 2);
            ModelTuning.Result result = ModelTuning.tune(model, load, opts, Tuner.Listener.NONE, Progress.NONE);
            var step = result.step();
            assertNotNull(step, "sm_90 has dependent launches: the stage ran");
            assertEquals("as tuned per kernel", step.trials().getFirst().name());
            assertEquals("as tuned, as dependents", step.trials().get(1).name());
            assertTrue(step.trials().size() >= 3, "a ring variant fits the tiny model's GEMVs: " + step.trials());
            for (var t : step.trials()) assertTrue(t.decodeTokensPerSecond() > 0, "every trial ran: " + t);
            assertTrue(step.lines().stream().anyMatch(l -> l.endsWith("<- kept")), step.lines().toString());

            var records = TuningDatabase.read(result.database(), null).records();
            var runner = records.stream().filter(x -> x.signature().equals("runner@cuda:sm_90")).findFirst().orElseThrow();
            assertEquals(step.kept() == step.trials().getFirst() ? 0 : 1, runner.knobs().get(GpuRunner.DEPENDENT),
                    "the runner's entry launches the programs as dependents for every trial but the per-kernel result's (the ring variants' trigger acts only so): kept " + step.kept());
            try (var m = jmlc.engine.api.ModelLoader.load(model, load, Progress.NONE)) {
                GpuRunner r = (GpuRunner) m.runner();
                boolean variant = step.kept().knobs().containsKey("stages");
                int gemvs = 0;
                boolean early = false;
                for (var t : r.decodeProgram().tunables()) {
                    var rec = records.stream().filter(x -> x.signature().equals(t.space().signature().toString())).findFirst();
                    if (rec.isEmpty() || !t.space().signature().kind().equals("gemvh")) continue;
                    gemvs++;
                    // as the rule reads them: a ring the record's other knobs rule out compiles as the register loop
                    Map<String, Integer> want = t.space().asUsed(t.space().resolve(rec.get().knobs()));
                    assertEquals(want, t.chosen(), "the runner compiled the database's knobs");
                    int trigger = t.chosen().get(jmlc.compiler.schedule.Program.EARLY_TRIGGER);
                    early |= trigger == 1;
                    if (variant) step.kept().knobs().forEach((k, v) -> assertEquals(v, t.chosen().get(k), t.space().signature() + " has the kept variant's " + k));
                    // the per-kernel result: an early trigger only with a ring (on sm_90 a ring triggers early by default)
                    else if (t.chosen().get("stages") == 0) assertEquals(0, trigger, t.space().signature() + ": no ring, no early trigger");
                }
                assertTrue(gemvs > 0, "the tuned GEMVs are in the database");
                // a kept variant triggers early; the per-kernel result where one of its GEMVs kept a ring with the trigger
                assertEquals(variant || early, r.decodeProgram().triggersEarly(), "kept " + step.kept());
                // then the short-context threshold: both programs timed, the least total kept for the model's attention shape
                var shortContext = result.shortContext();
                assertNotNull(shortContext, "a GPU with a short-context program: the stage ran");
                assertArrayEquals(new int[] {0, 8, 16, 24}, shortContext.sweep().positions());
                for (int i = 0; i < 4; i++)
                    assertTrue(shortContext.sweep().splitMs()[i] > 0 && shortContext.sweep().oneBlockMs()[i] > 0, "both programs timed at " + shortContext.sweep().positions()[i]);
                for (int t : new int[] {0, 8, 16, 24, 32})
                    assertTrue(shortContext.sweep().meanMs(shortContext.positions()) <= 1.001 * shortContext.sweep().meanMs(t), "no threshold timed more than 0.1% faster than the kept: " + t);
                var entry = records.stream().filter(x -> x.signature().equals(shortContext.signature())).findFirst().orElseThrow();
                assertTrue(entry.signature().startsWith("decode_short_context_h4_kv2_"), entry.signature());
                assertEquals(java.util.Map.of("positions", shortContext.positions()), entry.knobs());
                assertEquals(shortContext.positions(), r.build().shortContext(), "the runner hands over where the stage chose");
                assertEquals(20, shortContext.before(), "the default before: 10 positions a KV head");
            }
        } finally {
            if (before == null) System.clearProperty("jmlc.tuning");
            else System.setProperty("jmlc.tuning", before);
        }
    }

    /**
     * A simulated device whose kernels named with {@code fault} leave garbage in every buffer they
     * write; it remembers which kernels ran inside timed replays.
     */
    static final class FaultyDevice implements GpuDevice {
        final SimulatedDevice inner;
        final String fault;
        final Set<String> corrupted = new HashSet<>(), timed = new HashSet<>();
        private List<String> recording;
        private boolean timing;

        FaultyDevice(SimulatedDevice inner, String fault) {
            this.inner = inner;
            this.fault = fault;
        }

        @Override
        public Launch prepare(LoadedKernel k, long[] buffers) {
            Launch l = inner.prepare(k, buffers);
            Kernel kernel = k.kernel();
            return new Launch() {
                public LoadedKernel kernel() {
                    return k;
                }

                public void launch(int[] grid, int[] scalars) {
                    l.launch(grid, scalars);
                    if (recording != null) recording.add(kernel.name());
                    if (kernel.name().contains(fault) && recording == null) { // ran now, not captured: spoil what it wrote
                        corrupted.add(kernel.name());
                        for (int i = 0; i < kernel.buffers().size(); i++)
                            if (!kernel.buffers().get(i).readOnly()) inner.upload(buffers[i], MemorySegment.ofArray(new byte[] {0x7f, 0x7f, 0x7f, 0x7f}), 4);
                    }
                }

                public void close() {
                    l.close();
                }
            };
        }

        @Override
        public Captured capture(Runnable body) {
            List<String> names = new ArrayList<>();
            recording = names;
            Captured c;
            try {
                c = inner.capture(body);
            } finally {
                recording = null;
            }
            return new Captured() {
                public void replay() {
                    if (timing) timed.addAll(names);
                    c.replay();
                }

                public void close() {
                    c.close();
                }
            };
        }

        @Override
        public float time(Runnable body) {
            timing = true;
            try {
                return inner.time(body);
            } finally {
                timing = false;
            }
        }

        // the rest as the simulator does it
        public DeviceInfo info() { return inner.info(); }
        public Target target() { return inner.target(); }
        public long freeBytes() { return inner.freeBytes(); }
        public long alloc(long bytes, String what) { return inner.alloc(bytes, what); }
        public void free(long address) { inner.free(address); }
        public void upload(long dst, MemorySegment src, long bytes) { inner.upload(dst, src, bytes); }
        public MemorySegment pinned(long bytes) { return inner.pinned(bytes); }
        public void uploadAsync(long dst, MemorySegment src, long bytes) { inner.uploadAsync(dst, src, bytes); }
        public void downloadAsync(MemorySegment dst, long src, long bytes) { inner.downloadAsync(dst, src, bytes); }
        public void zero(long dst, long bytes) { inner.zero(dst, bytes); }
        public void copy(long dst, long src, long bytes) { inner.copy(dst, src, bytes); }
        public void download(MemorySegment dst, long src, long bytes) { inner.download(dst, src, bytes); }
        public LoadedKernel load(Kernel kernel, String source) { return inner.load(kernel, source); }
        public void synchronize() { inner.synchronize(); }
        public Event event() { return inner.event(); }
        public boolean modeledClock() { return inner.modeledClock(); }
        public void close() { inner.close(); }
    }
}
