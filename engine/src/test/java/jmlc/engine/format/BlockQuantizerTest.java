package jmlc.engine.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.format.tensor.TensorEncoding;
import jmlc.engine.format.tensor.TensorView;

class BlockQuantizerTest {

    private static TensorView encoded(float[] x, TensorDType dt) {
        return new TensorView("t", dt, new long[] {x.length}, MemorySegment.ofArray(TensorEncoding.toBytes(x, dt)), Path.of("mem"));
    }

    /**
     * A block worked by hand with ggml's formula: x_j = j − 16 has max −16, so d = −16 / −8 = 2,
     * id = 0.5 and q_j = min(15, trunc(x_j · 0.5 + 8.5)).
     */
    @Test
    void q4_0MatchesTheReferenceFormulaOnAHandWorkedBlock() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = j - 16;
        byte[] b = TensorEncoding.toBytes(x, TensorDType.Q4_0);
        assertEquals(Float.floatToFloat16(2f), (short) ((b[0] & 0xFF) | b[1] << 8));
        // j = 0: trunc(0.5) = 0; j = 1: trunc(1.0) = 1; j = 16 (x = 0): trunc(8.5) = 8; j = 31 (x = 15): trunc(16) = 16 → 15
        assertEquals(0, b[2] & 0xF);
        assertEquals(1, b[3] & 0xF);
        assertEquals(8, (b[2] & 0xFF) >>> 4);
        assertEquals(15, (b[17] & 0xFF) >>> 4);
        assertEquals(-16f, encoded(x, TensorDType.Q4_0).getFloat(0)); // the extreme value is exact
    }

    /** ggml rounds with roundf (halves away from zero), where Java's Math.round would give −2 for −2.5. */
    @Test
    void q8_0RoundsHalvesAwayFromZero() {
        float[] x = new float[32];
        x[0] = 127;     // amax = 127, so d = 1 and values quantize to round(x)
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = -0.5f;
        byte[] b = TensorEncoding.toBytes(x, TensorDType.Q8_0);
        assertEquals(127, b[2]);
        assertEquals(3, b[3]);
        assertEquals(-3, b[4]);
        assertEquals(-1, b[5]);
    }

    @Test
    void dequantizedValuesStayWithinHalfAStepOfTheInput() {
        SplittableRandom rng = new SplittableRandom(7);
        float[] x = new float[32 * 64];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextGaussian() * (1 + i / 32));
        for (TensorDType dt : new TensorDType[] {TensorDType.Q4_0, TensorDType.Q8_0}) {
            TensorView t = encoded(x, dt);
            for (int blk = 0; blk < x.length / 32; blk++) {
                float amax = 0, max = 0;
                for (int j = 0; j < 32; j++) {
                    if (Math.abs(x[32 * blk + j]) > amax) max = x[32 * blk + j];
                    amax = Math.max(amax, Math.abs(x[32 * blk + j]));
                }
                float step = dt == TensorDType.Q4_0 ? amax / 8 : amax / 127;
                for (int j = 0; j < 32; j++) {
                    int i = 32 * blk + j;
                    // half a step, plus the f16 rounding of the scale (relative 2^-11) over up to 8
                    // or 127 steps; Q4_0 maps the extreme value to -8 and reaches only 7 steps on the
                    // other side, so values beyond 7.5 steps there are off by up to a whole step
                    boolean clamped = dt == TensorDType.Q4_0 && Math.signum(x[i]) != Math.signum(max) && Math.abs(x[i]) > 7.5f * step;
                    float tol = (clamped ? step : step / 2) + amax * 0x1p-10f;
                    assertTrue(Math.abs(t.getFloat(i) - x[i]) <= tol, dt + " element " + i + ": " + x[i] + " -> " + t.getFloat(i));
                }
            }
        }
    }

    @Test
    void allZeroBlocksQuantizeToZero() {
        float[] x = new float[64];
        for (TensorDType dt : new TensorDType[] {TensorDType.Q4_0, TensorDType.Q8_0}) {
            TensorView t = encoded(x, dt);
            for (int i = 0; i < x.length; i++) assertEquals(0f, t.getFloat(i), 0f); // ggml's d = 0 / -8 is -0: ±0 both fine
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        // 1 + 2^-8 is halfway between bf16 1.0 and 1 + 2^-7: ties go to the even mantissa (1.0)
        assertEquals((short) 0x3F80, TensorEncoding.toBf16(1f + 0x1p-8f));
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): goes up
        assertEquals((short) 0x3F82, TensorEncoding.toBf16(1f + 3 * 0x1p-8f));
        assertEquals((short) 0x3F81, TensorEncoding.toBf16(1f + 0x1p-8f + 0x1p-12f));
        assertTrue(Float.isNaN(Float.intBitsToFloat(TensorEncoding.toBf16(Float.NaN) << 16)));
    }
}
