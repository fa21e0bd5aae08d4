package jmlc.engine.runtime.cpu;

import jmlc.compiler.ir.MatmulParts;
import jmlc.compiler.ir.Node;
import jmlc.compiler.ir.Value;
import jmlc.compiler.schedule.InvalidKnobException;
import jmlc.compiler.schedule.KernelSignature;
import jmlc.compiler.schedule.Knob;
import jmlc.compiler.schedule.KnobSpace;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.target.Target;

import java.util.Map;
import java.util.function.Consumer;

/**
 * The CPU kernels' knobs as declared spaces, searched by the tuner and read from the tuning
 * database like the GPU rules': per matmul weight, the decode GEMV's {@code cpu_gemv} (row tasks a
 * thread, and the rows a thread needs before the columns are split instead) and the prefill
 * matmul's {@code cpu_gemm} (weight rows dequantized per tile). The defaults are the constants the
 * kernels had, measured on this project's Zen 5 machine ({@code bench/CPU-KERNELS.md}).
 */
public final class CpuKnobs {
    private CpuKnobs() {}

    /** What one matmul node's kernels use. */
    public record Matmul(int tasksPerThread, int splitRows, int tileRows) {
        public static final Matmul DEFAULTS = new Matmul(MatMul.TASKS_PER_THREAD, MatMul.MIN_ROWS_PER_THREAD, TileMatmul.TILE_ROWS);
    }

    /** The CPU of this process as a tuning target: {@code cpu:amd64_512} (the architecture and the vector width in bits), on {@code threads} threads. */
    public static Target target(int threads) {
        String arch = System.getProperty("os.arch", "cpu").replaceAll("[^A-Za-z0-9]", "_") + "_" + Simd.F.vectorBitSize();
        return Target.cpu(arch, Simd.L, threads);
    }

    /** {@code q4f16g32z7_4096x4096}: the weight's type and shape. */
    static String shape(Value w) {
        return w.type().toString().replaceAll("[^a-z0-9]", "") + "_" + w.type().shape().dim(0).size() + "x" + w.type().shape().dim(1).size();
    }

    /** The decode GEMV's knobs for weight {@code w}. */
    public static KnobSpace gemv(Value w, Target t) {
        return new KnobSpace(new KernelSignature("cpu_gemv", shape(w), t))
                .add(Knob.oneOf("tasks_per_thread", MatMul.TASKS_PER_THREAD, "row tasks a thread (more: a thread slowed by another process is covered by the others)", 1, 2, 4, 8, 16))
                .add(Knob.oneOf("split_rows", MatMul.MIN_ROWS_PER_THREAD, "with fewer rows a thread than this, the columns are split across threads instead", 1, 4, 8, 16, 32, 64, 128));
    }

    /** The prefill matmul's knobs for weight {@code w}. */
    public static KnobSpace gemm(Value w, Target t) {
        return new KnobSpace(new KernelSignature("cpu_gemm", shape(w), t))
                .add(Knob.oneOf("tile_rows", TileMatmul.TILE_ROWS, "weight rows dequantized once per tile and multiplied with every token", 4, 8, 16, 32, 64, 128));
    }

    /** Whether {@code n} is a matmul with a weight of its own (what the CPU's matmul kernels run). */
    public static boolean isMatmul(Node n) {
        MatmulParts m = MatmulParts.of(n);
        return m != null && m.w().kind() == Value.Kind.PARAM && m.w().type().shape().rank() == 2;
    }

    /** The values {@code knobs} set for matmul node {@code n}'s kernels on {@code t}; values a space refuses are a warning and its defaults. */
    public static Matmul matmul(Node n, Target t, Knobs knobs, Consumer<String> warn) {
        Value w = MatmulParts.of(n).w();
        Map<String, Integer> v = resolve(gemv(w, t), knobs, warn), g = resolve(gemm(w, t), knobs, warn);
        return new Matmul(v.get("tasks_per_thread"), v.get("split_rows"), g.get("tile_rows"));
    }

    private static Map<String, Integer> resolve(KnobSpace s, Knobs knobs, Consumer<String> warn) {
        try {
            return s.resolve(knobs.values(s.signature()));
        } catch (InvalidKnobException e) {
            warn.accept(e.getMessage() + "; that kernel uses its defaults");
            return s.defaults();
        }
    }
}
