package jmlc.compiler.kernel;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static jmlc.compiler.kernel.K.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ldmatrix.x4 as PTX defines it: lane l addresses row l%8 of matrix l/8 and receives, in register j,
 * word l%4 of row l/4 of matrix j. One warp; shared word i holds the value i, rows of 20 words
 * (the GEMM's padded stride), matrices at distinct row and word offsets.
 */
class KernelSimulatorLdMatrixTest {
    static final Shared S = new Shared("s", KType.U32, 40 * 20);
    static final Buffer OUT = new Buffer("out", KType.U32, false);

    /** Row r of matrix j starts at word ROW[j] * 20 + 20 * r + COL[j]. */
    static final int[] ROW = {0, 8, 16, 30}, COL = {0, 4, 8, 12};

    static int[] run(boolean aligned) {
        K.Body b = new K.Body();
        Expr.Var i = var("i", KType.I32);
        b.forRange(i, tid(0), c(40 * 20), c(32), 0, x -> x.sstore(S, i, cast(KType.U32, i)));
        b.barrier();
        Expr lane = tid(0), j = div(lane, c(8)), r = mod(lane, c(8));
        // the row start this lane supplies: a table lookup by j, written as selects
        Expr rowBase = c(0), colBase = c(0);
        for (int m = 0; m < 4; m++) {
            rowBase = select(eq(j, c(m)), c(ROW[m]), rowBase);
            colBase = select(eq(j, c(m)), c(COL[m] + (aligned ? 0 : 1)), colBase);
        }
        List<Expr.Var> dst = new ArrayList<>();
        for (int m = 0; m < 4; m++) dst.add(b.let("d" + m, u(0)));
        b.ldmatrix(dst, S, add(mul(add(rowBase, r), c(20)), colBase));
        for (int m = 0; m < 4; m++) b.store(OUT, add(mul(lane, c(4)), c(m)), dst.get(m));
        Kernel k = new Kernel("ldmatrix_probe", List.of(OUT), List.of(), List.of(S), b.build(), new int[] {32, 1, 1}, new Expr[] {c(1), c(1), c(1)}, Map.of(), "probe");
        return SimulatorProbe.run(k, 128);
    }

    @Test
    void eachLaneGetsItsFragmentWords() {
        int[] v = run(true);
        for (int lane = 0; lane < 32; lane++)
            for (int m = 0; m < 4; m++)
                assertEquals((ROW[m] + lane / 4) * 20 + COL[m] + lane % 4, v[lane * 4 + m], "lane " + lane + " register " + m);
    }

    @Test
    void rowsMustBe16ByteAligned() {
        var e = assertThrows(IllegalStateException.class, () -> run(false));
        assertTrue(e.getMessage().contains("not 16-byte aligned"), e.getMessage());
    }
}
