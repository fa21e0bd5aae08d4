package jmlc.engine.runtime.cpu;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import jmlc.compiler.ir.DType;
import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.RopeSpec;
import jmlc.compiler.quant.GroupQuantizer;
import jmlc.compiler.quant.Half;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * Decode-critical CPU kernels, measured:
 * <ol>
 *   <li>streaming read bandwidth of this machine from Java (1 thread and the pool);
 *   <li>the pool's per-call dispatch cost (an empty run);
 *   <li>{@link MatMul} GEMV (seq 1) for each weight kind on TinyLlama-1.1B's shapes, rotating over
 *       copies of the weight totalling more than {@value #ROTATE_MB} MB so that every call reads DRAM,
 *       not cache; GB/s is the bytes of values and scales one call must read over its time;
 *   <li>the other per-token kernels (norms, rope + KV append, attention, silu·mul, argmax);
 *   <li>the modelled decode speed of {@code tinyllama-1.1b q4f16_1}: the sum of one token's kernel
 *       times (22 layers plus the LM head), against the roofline of bytes per token over the read
 *       bandwidth measured in 1.
 * </ol>
 * The machine may be shared: each figure is the median of many calls (and the best, which shows
 * what the code does when it has the cores). Weights hold random bits; speed does not depend on
 * their values.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp engine/target/classes:compiler/target/classes \
 *     jmlc.engine.runtime.cpu.CpuKernelBench [--threads N] [--kinds q4f16_1,f16] [--seconds S]</pre>
 */
public final class CpuKernelBench {

    static final int ROTATE_MB = 768;

    // TinyLlama-1.1B: hidden 2048, intermediate 5632, 22 layers, 32 heads, 4 KV heads, head 64, vocab 32000.
    static final int HIDDEN = 2048, INTER = 5632, LAYERS = 22, HEADS = 32, KV_HEADS = 4, HEAD_DIM = 64, VOCAB = 32000;

    /** name, rows, cols, calls per token. */
    record Shape(String name, int rows, int cols, int perToken) {}

    static final List<Shape> SHAPES = List.of(
            new Shape("qkv   2048->2560", (HEADS + 2 * KV_HEADS) * HEAD_DIM, HIDDEN, LAYERS),
            new Shape("o     2048->2048", HIDDEN, HIDDEN, LAYERS),
            new Shape("gate+up 2048->11264", 2 * INTER, HIDDEN, LAYERS),
            new Shape("down  5632->2048", HIDDEN, INTER, LAYERS),
            new Shape("lm_head 2048->32000", VOCAB, HIDDEN, 1));

    record Timing(double medianNs, double bestNs) {}

    private final ThreadPool pool;
    private final double seconds;
    private final StringBuilder report = new StringBuilder();

    CpuKernelBench(ThreadPool pool, double seconds) {
        this.pool = pool;
        this.seconds = seconds;
    }

    public static void main(String[] args) throws Exception {
        int threads = Runtime.getRuntime().availableProcessors();
        double seconds = 3;
        List<String> kinds = List.of("q4f16_1", "q4f32_1", "q8f16", "f16", "bf16", "f32");
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--kinds" -> kinds = List.of(args[++i].split(","));
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--threads N, --kinds a,b, --seconds S, --out FILE)");
            }
        }
        try (ThreadPool pool = new ThreadPool(threads)) {
            CpuKernelBench b = new CpuKernelBench(pool, seconds);
            b.run(kinds);
            if (out != null) Files.writeString(out, b.report);
        }
    }

    void run(List<String> kinds) {
        line("# CPU kernel benchmark: " + pool.threads() + " threads, " + Simd.F + ", vector " + (Simd.ENABLED ? "on" : "OFF")
                + ", load average at start " + loadAverage());
        double[] bw = bandwidth();
        double bandwidth = bw[1];
        line(String.format(Locale.ROOT, "read bandwidth: 1 thread %.1f GB/s (best %.1f), %d threads %.1f GB/s (best %.1f)",
                bw[0], bw[2], pool.threads(), bw[1], bw[3]));
        dispatch();
        warmUp(kinds);
        line("");
        line("| kind | shape | MB/call | median us | GB/s | best us | best GB/s |");
        line("|---|---|---|---|---|---|---|");
        double q4TokenNs = 0, q4TokenBestNs = 0, q4Bytes = 0;
        for (String kind : kinds) {
            for (Shape s : SHAPES) {
                Result r = gemv(kind, s);
                line(String.format(Locale.ROOT, "| %s | %s | %.1f | %.0f | %.1f | %.0f | %.1f |", kind, s.name, r.bytes / 1e6,
                        r.t.medianNs / 1e3, r.bytes / r.t.medianNs, r.t.bestNs / 1e3, r.bytes / r.t.bestNs));
                if (kind.equals("q4f16_1")) {
                    q4TokenNs += r.t.medianNs * s.perToken;
                    q4TokenBestNs += r.t.bestNs * s.perToken;
                    q4Bytes += r.bytes * s.perToken;
                }
            }
        }
        prefill(kinds);
        double otherNs = otherKernels();
        if (q4TokenNs > 0) {
            double roofline = bandwidth * 1e9 / q4Bytes;
            line("");
            line(String.format(Locale.ROOT, "tinyllama-1.1b q4f16_1 decode, modelled: %.0f MB of weights and scales per token", q4Bytes / 1e6));
            line(String.format(Locale.ROOT, "  GEMVs: %.2f ms/token (median), %.2f ms (best) -> %.1f tok/s (%.1f best)",
                    q4TokenNs / 1e6, q4TokenBestNs / 1e6, 1e9 / q4TokenNs, 1e9 / q4TokenBestNs));
            line(String.format(Locale.ROOT, "  + other kernels at context 256: %.2f ms/token -> %.1f tok/s", otherNs / 1e6, 1e9 / (q4TokenNs + otherNs)));
            line(String.format(Locale.ROOT, "  roofline at the measured %.1f GB/s: %.1f tok/s; GEMVs reach %.0f%% of it (%.0f%% with the other kernels)",
                    bandwidth, roofline, 100 * (1e9 / q4TokenNs) / roofline, 100 * (1e9 / (q4TokenNs + otherNs)) / roofline));
            line(String.format(Locale.ROOT, "  against the 26 GB/s the team's target assumes (roofline %.1f tok/s, target 60%% = %.1f tok/s): %.0f%%",
                    26e9 / q4Bytes, 0.6 * 26e9 / q4Bytes, 100 * (1e9 / (q4TokenNs + otherNs)) / (26e9 / q4Bytes)));
        }
        line("load average at end " + loadAverage());
    }

    // ---- dispatch ----

    /**
     * The pool's cost per run: runs of {@code threads} tasks that each busy-wait 5 µs (so every
     * worker must take part; empty tasks would all be claimed by the caller), minus those 5 µs.
     */
    void dispatch() {
        long work = 5_000;
        Timing t = time(() -> pool.run(pool.threads(), (task, w) -> spin(work)), 1);
        int[] sink = new int[1];
        ThreadPool.Duplicable d = new ThreadPool.Duplicable() {
            public void compute(int task, int w) { spin(work / 4); }
            public void publish(int task, int w) { sink[0]++; }
        };
        Timing u = time(() -> pool.runDuplicable(4 * pool.threads(), d), 1);
        line(String.format(Locale.ROOT, "pool dispatch overhead per run: exactly-once %.2f us median (%.2f best); duplicable, %d tasks as a GEMV issues, %.2f us (%.2f best)",
                (t.medianNs - work) / 1e3, (t.bestNs - work) / 1e3, 4 * pool.threads(), (u.medianNs - work) / 1e3, (u.bestNs - work) / 1e3));
    }

    private static void spin(long nanos) {
        for (long end = System.nanoTime() + nanos; System.nanoTime() < end; ) Thread.onSpinWait();
    }

    // ---- bandwidth ----

    private static final VectorSpecies<Long> LONGS = LongVector.SPECIES_PREFERRED;

    /** [1-thread median GB/s, pool median, 1-thread best, pool best]: sums of a 1 GiB buffer, 64 MiB per call. */
    double[] bandwidth() {
        long size = 1L << 30, chunk = 64L << 20;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(size, 4096);
            for (long o = 0; o < size; o += 8) buf.set(ValueLayout.JAVA_LONG, o, o);
            long[] sink = new long[pool.threads()];
            long[] next = {0};
            Timing one = time(() -> {
                long o = next[0];
                next[0] = (o + chunk) % size;
                sink[0] += sum(buf, o, o + chunk);
            }, 1);
            Timing all = time(() -> {
                long o = next[0];
                next[0] = (o + chunk) % size;
                int t = pool.threads();
                pool.run(t, (i, w) -> sink[i] += sum(buf, o + chunk * i / t, o + chunk * (i + 1) / t));
            }, 1);
            if (sink[0] == 42) line("");
            return new double[] {chunk / one.medianNs, chunk / all.medianNs, chunk / one.bestNs, chunk / all.bestNs};
        }
    }

    private static long sum(MemorySegment s, long from, long to) {
        LongVector a = LongVector.zero(LONGS), b = a;
        int step = LONGS.vectorByteSize();
        for (long o = from; o < to; o += 2L * step) {
            a = a.add(LongVector.fromMemorySegment(LONGS, s, o, Simd.LE));
            b = b.add(LongVector.fromMemorySegment(LONGS, s, o + step, Simd.LE));
        }
        return a.add(b).reduceLanes(VectorOperators.ADD);
    }

    // ---- GEMV ----

    record Result(double bytes, Timing t) {}

    Result gemv(String kind, Shape s) {
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom r = new SplittableRandom(s.rows * 31L + s.cols);
            Weight first = randomWeight(arena, kind, s.rows, s.cols, r);
            int copies = (int) Math.max(2, Math.ceil(ROTATE_MB * 1e6 / first.bytes()));
            Weight[] w = new Weight[copies];
            w[0] = first;
            for (int c = 1; c < copies; c++) w[c] = randomWeight(arena, kind, s.rows, s.cols, r);
            float[] x = new float[s.cols], y = new float[s.rows];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
            Timing t = time(i -> MatMul.matmul(pool, x, 1, w[i % copies], null, y), 1);
            return new Result(first.bytes(), t);
        }
    }

    /**
     * Runs every kind's GEMV (both row counts' code paths, and K = 5632's superblock count) until C2
     * has compiled it: on a loaded machine that takes seconds, and the first shape measured would
     * otherwise pay for it.
     */
    void warmUp(List<String> kinds) {
        long t0 = System.nanoTime();
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom r = new SplittableRandom(1);
            for (String kind : kinds)
                for (int cols : new int[] {HIDDEN, INTER}) {
                    Weight w = randomWeight(arena, kind, 512, cols, r);
                    float[] x = new float[cols], y = new float[512];
                    time(i -> MatMul.matmul(pool, x, 1, w, null, y), 1);
                }
        }
        line(String.format(Locale.ROOT, "(JIT warm-up: %.1f s)", (System.nanoTime() - t0) / 1e9));
    }

    static Weight randomWeight(Arena arena, String kind, int rows, int cols, SplittableRandom r) {
        QuantScheme q = switch (kind) {
            case "q4f16_1" -> QuantScheme.Q4F16_1;
            case "q4f32_1" -> QuantScheme.Q4F32_1;
            case "q8f16" -> QuantScheme.Q8F16;
            default -> null;
        };
        if (q != null) {
            MemorySegment data = arena.allocate(q.dataBytes(rows, cols), 64), scales = arena.allocate(q.scaleBytes(rows, cols), 64);
            fillRandom(data, r);
            long n = (long) rows * (cols / q.groupSize());
            for (long i = 0; i < n; i++) {
                float v = (float) (0.001 + 0.01 * r.nextDouble());
                if (q.scaleType() == DType.F16) scales.setAtIndex(GroupQuantizer.F16, i, Half.fromFloat(v));
                else scales.setAtIndex(GroupQuantizer.F32, i, v);
            }
            return new Weight.Quantized(data, scales, q, rows, cols);
        }
        DType t = switch (kind) {
            case "f16" -> DType.F16;
            case "bf16" -> DType.BF16;
            case "f32" -> DType.F32;
            default -> throw new IllegalArgumentException("unknown weight kind " + kind + " (q4f16_1, q4f32_1, q8f16, f16, bf16, f32)");
        };
        long n = (long) rows * cols;
        MemorySegment data = arena.allocate(n * (t.bits() / 8), 64);
        for (long i = 0; i < n; i++) {
            float v = (float) (r.nextDouble() * 0.1 - 0.05);
            switch (t) {
                case F16 -> data.setAtIndex(GroupQuantizer.F16, i, Half.fromFloat(v));
                case BF16 -> data.setAtIndex(GroupQuantizer.F16, i, Half.floatToBf16(v));
                default -> data.setAtIndex(GroupQuantizer.F32, i, v);
            }
        }
        return new Weight.Dense(data, t, rows, cols);
    }

    private static void fillRandom(MemorySegment s, SplittableRandom r) {
        long n = s.byteSize() / 8;
        for (long i = 0; i < n; i++) s.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, r.nextLong());
    }

    // ---- prefill ----

    /** Prefill matmuls (seq 64) on the two TinyLlama shapes with the most weight: GFLOP/s and the prompt tokens/s they imply. */
    void prefill(List<String> kinds) {
        int seq = 64;
        line("");
        line("| prefill seq " + seq + " | shape | median ms | GFLOP/s | best GFLOP/s |");
        line("|---|---|---|---|---|");
        for (String kind : kinds)
            for (Shape s : List.of(SHAPES.get(2), SHAPES.get(3))) {
                try (Arena arena = Arena.ofShared()) {
                    SplittableRandom r = new SplittableRandom(3);
                    Weight w = randomWeight(arena, kind, s.rows, s.cols, r);
                    float[] x = rnd(r, seq * s.cols), y = new float[seq * s.rows];
                    Timing t = time(() -> MatMul.matmul(pool, x, seq, w, null, y), 1);
                    double flop = 2.0 * seq * s.rows * s.cols;
                    line(String.format(Locale.ROOT, "| %s | %s | %.2f | %.1f | %.1f |", kind, s.name, t.medianNs / 1e6, flop / t.medianNs, flop / t.bestNs));
                }
            }
    }

    // ---- the rest of a decode step ----

    /** One token's other kernels (22 layers at context 256, plus the head's norm and argmax); returns median ns. */
    double otherKernels() {
        int ctx = 256, pos = ctx - 1;
        line("");
        line("| other kernel (per call) | median us | best us | calls/token |");
        line("|---|---|---|---|");
        SplittableRandom r = new SplittableRandom(7);
        float[] hidden = rnd(r, HIDDEN), resid = rnd(r, HIDDEN), normW = rnd(r, HIDDEN), sum = new float[HIDDEN], normed = new float[HIDDEN];
        float[] qkv = rnd(r, (HEADS + 2 * KV_HEADS) * HEAD_DIM), q = new float[HEADS * HEAD_DIM], att = new float[HEADS * HEAD_DIM];
        float[] gateUp = rnd(r, 2 * INTER), act = new float[INTER], logits = rnd(r, VOCAB);
        double total = 0;
        try (Arena arena = Arena.ofShared()) {
            KvCache k = KvCache.allocate(arena, DType.F16, KV_HEADS, 2048, HEAD_DIM), v = KvCache.allocate(arena, DType.F16, KV_HEADS, 2048, HEAD_DIM);
            k.append(rnd(r, ctx * KV_HEADS * HEAD_DIM), ctx, 0);
            v.append(rnd(r, ctx * KV_HEADS * HEAD_DIM), ctx, 0);
            Rope rope = new Rope(new RopeSpec(HEAD_DIM, 10000, RopeSpec.Style.HALF, new RopeSpec.Scaling.None()), 2048);
            total += other("add_rms_norm 2048", 2 * LAYERS, () -> Norms.addRmsNorm(hidden, resid, 1, normW, 1e-5, sum, normed));
            total += other("rope_kv_append 32+4+4 heads x 64", LAYERS, () -> rope.applyAndAppend(qkv, 1, HEADS, KV_HEADS, pos, q, k, v));
            total += other("attention ctx 256, f16 cache", LAYERS, () -> Attention.attention(pool, q, 1, k, v, pos, HEADS, 0.125f, att));
            total += other("silu_mul 5632", LAYERS, () -> Elementwise.siluMul(gateUp, 1, INTER, act));
            total += other("rms_norm 2048 (final)", 1, () -> Norms.rmsNorm(hidden, 1, normW, 1e-5, normed));
            total += other("argmax 32000", 1, () -> Argmax.argmax(logits, 0, VOCAB));
            Timing longCtx = time(() -> Attention.attention(pool, q, 1, k, v, 2047, HEADS, 0.125f, att), 0.5);
            line(String.format(Locale.ROOT, "| attention ctx 2048, f16 cache (not in the sum) | %.1f | %.1f | %d |",
                    longCtx.medianNs / 1e3, longCtx.bestNs / 1e3, LAYERS));
        }
        return total;
    }

    private double other(String name, int perToken, Runnable r) {
        Timing t = time(r, 0.5);
        line(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %d |", name, t.medianNs / 1e3, t.bestNs / 1e3, perToken));
        return t.medianNs * perToken;
    }

    private static float[] rnd(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    // ---- timing ----

    Timing time(Runnable r, double share) {
        return time(i -> r.run(), share);
    }

    /**
     * Calls {@code r} (with a call counter) for {@code share · seconds} to let C2 compile everything
     * (slow on a loaded 2-core machine), then as long again timing each call; median and best.
     */
    Timing time(IntConsumer r, double share) {
        long budget = (long) (share * seconds * 1e9);
        int i = 0;
        for (long end = System.nanoTime() + budget; System.nanoTime() < end; ) r.accept(i++);
        List<Long> ts = new ArrayList<>();
        for (long end = System.nanoTime() + budget; System.nanoTime() < end || ts.size() < 20; ) {
            long t0 = System.nanoTime();
            r.accept(i++);
            ts.add(System.nanoTime() - t0);
        }
        long[] a = ts.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        return new Timing(a[a.length / 2], a[0]);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (Exception e) {
            return "unknown";
        }
    }

    private void line(String s) {
        System.out.println(s);
        report.append(s).append('\n');
    }
}
