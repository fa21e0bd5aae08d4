package jmlc.magics.builtin;

import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;

import java.util.Set;

/** {@code %time CODE} or {@code %%time} + body: runs the code as a cell and prints the wall time. */
public final class TimeMagic implements Magic {

    @Override
    public String name() {
        return "time";
    }

    @Override
    public String summary() {
        return "Time a statement (%time CODE) or a whole cell (%%time); shows its value.";
    }

    @Override
    public String help() {
        return """
                Usage: %time CODE
                       %%time
                       CODE...
                Runs CODE (Java and line magics) as a cell would, then prints the wall-clock time.
                The value of the last expression is the result, as without %time.""";
    }

    @Override
    public Set<Form> forms() {
        return Set.of(Form.LINE, Form.CELL);
    }

    @Override
    public Object run(MagicContext ctx) throws Exception {
        String code = ctx.form() == Form.CELL ? ctx.body() : ctx.args();
        if (code.isBlank()) throw new MagicException("%time: nothing to time. Usage: %time CODE, or %%time above a cell.");
        long start = System.nanoTime();
        try {
            return ctx.shell().run(code);
        } finally {
            ctx.println("Wall time: " + format(System.nanoTime() - start));
        }
    }

    /** 850 ns, 12.3 µs, 4.56 ms, 1.234 s, 2 min 3.4 s */
    public static String format(long nanos) {
        if (nanos < 1_000) return nanos + " ns";
        if (nanos < 1_000_000) return String.format("%.1f µs", nanos / 1e3);
        if (nanos < 1_000_000_000) return String.format("%.2f ms", nanos / 1e6);
        if (nanos < 60_000_000_000L) return String.format("%.3f s", nanos / 1e9);
        long minutes = nanos / 60_000_000_000L;
        return String.format("%d min %.1f s", minutes, (nanos - minutes * 60_000_000_000L) / 1e9);
    }
}
