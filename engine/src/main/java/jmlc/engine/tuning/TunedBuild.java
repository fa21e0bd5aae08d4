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
        db.warnings().forEach(warn);
        Knobs knobs = db.knobs();
        while (true) {
            try {
                return Build.compile(graph, target, knobs, maxSeq);
            } catch (InvalidKnobException e) {
                Knobs fewer = knobs.without(e.signature());
                if (fewer.entries().size() == knobs.entries().size()) throw e; // not the database's doing
                warn.accept("the tuning database " + db.file() + ": " + e.getMessage() + "; that kernel uses its defaults");
                knobs = fewer;
            }
        }
    }
}
