package jmlc.compiler.kernel;

import jmlc.compiler.quant.Half;
import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

import static jmlc.compiler.kernel.K.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cooperative matrix tiles as the simulator runs them (what the GLSL {@code coopmat} calls compute):
 * one subgroup of 32 loads A row-major and B column-major from f16 pairs in shared memory (rows of 20
 * words, the GEMM's), accumulates A·B twice and stores the f32 tile; against a product in doubles of the
 * same f16 values, fresh random ones each run. And what the hardware forbids: lanes giving different
 * indices, a subgroup with lanes not running, tiles on a target without cooperative matrices.
 */
class KernelSimulatorTileTest {
    static final long SEED = Long.getLong("jmlc.test.seed", System.nanoTime()); // -Djmlc.test.seed=N replays a run
    static final Buffer IN = new Buffer("in", KType.U32, true), OUT = new Buffer("out", KType.F32, false);
    static final Shared AB = new Shared("ab", KType.U32, 640), YS = new Shared("ys", KType.F32, 256);
    static final MatrixTile ACC = new MatrixTile("acc", MatrixTile.Use.ACC), A = new MatrixTile("a", MatrixTile.Use.A), B = new MatrixTile("b", MatrixTile.Use.B);
    static final int STRIDE = 20, B_AT = 320;

    /** A kernel of one subgroup: {@code in} copied to shared, then {@code tiles} on it, then {@code ys} to {@code out}. */
    static Kernel kernel(Consumer<K.Body> tiles) {
        K.Body b = new K.Body();
        Expr.Var i = var("i", KType.I32);
        b.forRange(i, tid(0), c(640), c(32), 0, x -> x.sstore(AB, i, load(IN, i)));
        b.barrier();
        tiles.accept(b);
        Expr.Var j = var("j", KType.I32);
        b.forRange(j, tid(0), c(256), c(32), 0, x -> x.store(OUT, j, sload(YS, j)));
        return new Kernel("tile_probe", List.of(IN, OUT), List.of(), List.of(AB, YS), b.build(), new int[] {32, 1, 1},
                new Expr[] {c(1), c(1), c(1)}, Map.of(), "probe");
    }

    static void twoProducts(K.Body b) {
        b.tileFill(ACC, 0f);
        b.tileLoad(A, AB, c(0), STRIDE, false);
        b.tileLoad(B, AB, c(B_AT), STRIDE, true);
        b.tileMma(ACC, A, B);
        b.tileMma(ACC, A, B);
        b.tileStore(ACC, YS, c(0), 16);
    }

    static float[] run(Kernel k, int[] words) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment in = a.allocate(4L * words.length, 16), out = a.allocate(4L * 256, 16);
            for (int w = 0; w < words.length; w++) in.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, w, words[w]);
            new KernelSimulator(32).launch(k, Map.of("in", in, "out", out), Map.of());
            float[] y = new float[256];
            for (int e = 0; e < 256; e++) y[e] = out.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, e);
            return y;
        }
    }

    @Test
    void aSubgroupMultipliesItsTilesFromSharedMemory() {
        Random r = new Random(SEED);
        float[][] a = new float[16][16], bt = new float[16][16]; // bt[n][k] = B[k][n]: a w row, as the GEMM stores it
        int[] words = new int[640];
        for (int row = 0; row < 16; row++)
            for (int k = 0; k < 16; k++) {
                a[row][k] = Half.roundToHalf((float) r.nextGaussian());
                bt[row][k] = Half.roundToHalf((float) r.nextGaussian());
                int shift = (k % 2) * 16;
                words[row * STRIDE + k / 2] |= (Half.fromFloat(a[row][k]) & 0xffff) << shift;
                words[B_AT + row * STRIDE + k / 2] |= (Half.fromFloat(bt[row][k]) & 0xffff) << shift;
            }
        float[] y = run(kernel(KernelSimulatorTileTest::twoProducts), words);
        for (int row = 0; row < 16; row++)
            for (int n = 0; n < 16; n++) {
                double want = 0;
                for (int k = 0; k < 16; k++) want += 2.0 * a[row][k] * bt[n][k];
                assertEquals(want, y[row * 16 + n], 1e-5 * (1 + Math.abs(want)), "y[" + row + "][" + n + "], seed " + SEED);
            }
    }

    @Test
    void lanesMustAgreeOnTheIndex() {
        Kernel k = kernel(b -> {
            b.tileFill(ACC, 0f);
            b.tileLoad(A, AB, mul(div(tid(0), c(16)), c(4)), STRIDE, false); // lanes 16..31 a row of 4 words further on
        });
        var e = assertThrows(IllegalStateException.class, () -> run(k, new int[640]));
        assertTrue(e.getMessage().contains("lanes of subgroup 0 give indices 0 and 4"), e.getMessage());
    }

    @Test
    void theWholeSubgroupMustRunATileStatement() {
        Kernel k = kernel(b -> b.ifThen(lt(tid(0), c(16)), x -> x.tileFill(ACC, 0f)));
        var e = assertThrows(IllegalStateException.class, () -> run(k, new int[640]));
        assertTrue(e.getMessage().contains("only 16 lanes of subgroup 0"), e.getMessage());
    }

    @Test
    void onlyATargetWithCooperativeMatricesTakesTiles() {
        Kernel k = kernel(KernelSimulatorTileTest::twoProducts);
        for (String t : List.of("cuda:sm_90", "rocm:gfx1100", "vulkan")) {
            var e = assertThrows(IllegalStateException.class, () -> KernelCheck.verify(k, Target.parse(t).caps()), t);
            assertTrue(e.getMessage().contains("cooperative matrix tiles, which the target lacks"), e.getMessage());
        }
        KernelCheck.verify(k, Target.parse("vulkan:coopmat").caps());
    }
}
