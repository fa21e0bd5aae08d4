package jmlc.compiler.kernel;

import jmlc.compiler.target.Target;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static jmlc.compiler.kernel.K.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The simulator's watch over what a kernel reads before its grid dependency wait ({@link KernelSimulator#stepBegins}):
 * a writer kernel fills {@code a}, then a reader copies {@code a} (or {@code b}, which no launch of the step wrote)
 * to {@code out}, its loads before or after its wait.
 */
class ReadBeforeWaitTest {
    static final Capabilities CUDA = Target.parse("cuda:sm_90").caps();
    static final Buffer A_OUT = new Buffer("a", KType.F32, false), A_IN = new Buffer("a", KType.F32, true),
            B_IN = new Buffer("b", KType.F32, true), OUT = new Buffer("out", KType.F32, false);

    static Kernel writer() {
        K.Body b = new K.Body();
        b.store(A_OUT, tid(0), f(2));
        return Kernel.checked("writer", List.of(A_OUT), List.of(), List.of(), b.build(), new int[] {32, 1, 1},
                new Expr[] {c(1), c(1), c(1)}, Map.of(), "a[t] = 2", CUDA);
    }

    /** out[t] = src[t], the load before the wait ({@code early}) or after it. */
    static Kernel reader(Buffer src, boolean early) {
        K.Body b = new K.Body();
        b.gridDependency(Stmt.GridDependency.Kind.TRIGGER);
        Consumer<K.Body> copy = x -> x.store(OUT, tid(0), load(src, tid(0)));
        if (early) copy.accept(b);
        b.gridDependency(Stmt.GridDependency.Kind.WAIT);
        if (!early) copy.accept(b);
        return Kernel.checked("reader", List.of(src, OUT), List.of(), List.of(), b.build(), new int[] {32, 1, 1},
                new Expr[] {c(1), c(1), c(1)}, Map.of(), "out[t] = src[t]", CUDA);
    }

    /** Runs the writer, then (after {@code newStep}, a step boundary) the reader of {@code src}; {@code watched}: stepBegins first. */
    static float run(Buffer src, boolean early, boolean watched, boolean newStep) {
        try (Arena ar = Arena.ofConfined()) {
            MemorySegment a = ar.allocate(128, 16), bb = ar.allocate(128, 16), out = ar.allocate(128, 16);
            KernelSimulator sim = new KernelSimulator(32);
            if (watched) sim.stepBegins();
            sim.launch(writer(), Map.of("a", a), Map.of());
            if (newStep) sim.stepBegins();
            sim.launch(reader(src, early), Map.of("a", a, "b", bb, "out", out), Map.of());
            return out.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 5);
        }
    }

    @Test
    void aReadBeforeTheWaitOfWhatThisStepWroteFails() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> run(A_IN, true, true, false));
        assertTrue(e.getMessage().contains("read of a (byte 0) before the grid dependency wait"), e.getMessage());
    }

    @Test
    void afterTheWaitOrFromEarlierStepsOrUnwrittenMemoryItMayRead() {
        assertEquals(2f, run(A_IN, false, true, false)); // after the wait
        assertEquals(2f, run(A_IN, true, true, true)); // written by the step before
        assertEquals(0f, run(B_IN, true, true, false)); // no launch wrote b
        assertEquals(2f, run(A_IN, true, false, false)); // not watched: no step was begun
    }
}
