package jmlc.engine.tuning;

import jmlc.compiler.tune.TaskResult;
import jmlc.compiler.tune.Tuner;
import jmlc.compiler.tune.TuningRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** What a tuning run found, and what a database holds, as plain-text tables (the CLI and the GPU scripts print them). */
public final class TuningTable {
    private TuningTable() {}

    /** One line per task: kernel, uses, how timed, default and best time, gain, candidates, the knobs kept; then the totals. */
    public static List<String> of(Tuner.Report report) {
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT, "%-58s %4s %-24s %10s %10s %7s %-16s %s", "kernel", "uses", "timed as", "default ms", "best ms", "gain", "candidates", "knobs kept"));
        for (TaskResult r : report.results()) {
            String cands = r.timedCount() + (r.exhausted() ? " (all)" : "") + (r.rejectedCount() > 0 ? ", " + r.rejectedCount() + " refused" : "");
            if (r.defaults() == null) {
                out.add(String.format(Locale.ROOT, "%-58s %4d %-24s %10s %10s %7s %-16s %s", r.task().signature(), r.task().uses(), r.task().timedAs(), "-", "-", "-", cands,
                        r.all().isEmpty() ? "not measured: the budget ran out" : "the defaults were refused: " + reason(r)));
                continue;
            }
            out.add(String.format(Locale.ROOT, "%-58s %4d %-24s %10.4f %10.4f %6.3fx %-16s %s%s", r.task().signature(), r.task().uses(), r.task().timedAs(),
                    r.defaults().ms(), r.best().ms(), r.gain(), cands, r.describeBest(), r.improved() ? "" : " (the defaults)"));
        }
        for (boolean decode : new boolean[] {true, false}) {
            double before = 0, after = 0;
            for (TaskResult r : report.results())
                if (r.task().decode() == decode && r.defaults() != null) {
                    before += r.defaults().ms() * r.task().uses();
                    after += r.best().ms() * r.task().uses();
                }
            if (before > 0)
                out.add(String.format(Locale.ROOT, "%s kernels tuned, times their uses a step: %.3f ms with the defaults, %.3f ms tuned (%.1f%% less)",
                        decode ? "decode" : "prefill", before, after, 100 * (1 - after / before)));
        }
        return out;
    }

    private static String reason(TaskResult r) {
        return r.all().stream().filter(m -> m instanceof jmlc.compiler.tune.Measurement.Rejected).map(m -> ((jmlc.compiler.tune.Measurement.Rejected) m).reason())
                .findFirst().orElse("?");
    }

    /** A database's entries, one line each: kernel, default and best time, gain, knobs, when. */
    public static List<String> of(TuningDatabase.Loaded db) {
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT, "%-58s %10s %10s %7s %-20s %-24s %s", "kernel", "default ms", "best ms", "gain", "measured", "timed as", "knobs"));
        for (TuningRecord r : db.records()) {
            Map<String, Integer> k = new TreeMap<>(r.knobs());
            boolean measured = r.bestMs() > 0;
            out.add(String.format(Locale.ROOT, "%-58s %10s %10s %7s %-20s %-24s %s", r.signature(), measured ? String.format(Locale.ROOT, "%.4f", r.defaultMs()) : "-",
                    measured ? String.format(Locale.ROOT, "%.4f", r.bestMs()) : "-", measured ? String.format(Locale.ROOT, "%.3fx", r.gain()) : "-",
                    r.measured().isEmpty() ? "(set by hand)" : r.measured(), r.timedAs(), k.toString().replaceAll("[{}]", "").replace(", ", " ")));
        }
        return out;
    }
}
