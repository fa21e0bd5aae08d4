package jmlc.engine.tuning;

import jmlc.compiler.build.Build;
import jmlc.compiler.ir.Graph;
import jmlc.compiler.schedule.InvalidKnobException;
import jmlc.compiler.schedule.Knobs;
import jmlc.compiler.target.Target;

import java.util.function.Consumer;

/**
 * {@link Build#compile}, the one compile path, with a tuning database's knobs: what the running
 * model, {@code jmlc compile}, {@code %kernels} and {@code %source} all call. A database entry a
 * rule refuses (a knob it lacks, a value it does not allow: a stale or hand-edited file) is a
 * warning, and that kernel is compiled with its defaults; the database's warnings are passed on.
 */
public final class TunedBuild {
    private TunedBuild() {}

    public static Build compile(Graph graph, Target target, TuningDatabase.Loaded db, int maxSeq, Consumer<String> warn) {
        return compile(graph, target, db, KnobOverrides.NONE, maxSeq, warn);
    }

    /**
     * The same with {@code overrides} laid over the database's knobs: a value of theirs a rule refuses is an
     * IllegalArgumentException (the user asked for it), a signature no kernel has a warning.
     */
    public static Build compile(Graph graph, Target target, TuningDatabase.Loaded db, KnobOverrides overrides, int maxSeq, Consumer<String> warn) {
        db.warnings().forEach(warn);
        Knobs fromDatabase = db.knobs(), set = overrides.forTarget(target);
        while (true) {
            try {
                Build b = Build.compile(graph, target, fromDatabase.with(set), maxSeq);
                overrides.warnUnused(b, warn);
                return b;
            } catch (InvalidKnobException e) {
                if (overrides.names(e.signature())) throw new IllegalArgumentException("--knob: " + e.getMessage(), e);
                Knobs fewer = fromDatabase.without(e.signature());
                if (fewer.entries().size() == fromDatabase.entries().size()) throw e; // not the database's doing
                warn.accept("the tuning database " + db.file() + ": " + e.getMessage() + "; that kernel uses its defaults");
                fromDatabase = fewer;
            }
        }
    }
}
