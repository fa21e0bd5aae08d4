package jmlc.magics.llm;

import jmlc.engine.model.Progress;
import jmlc.magics.core.DisplayHandle;
import jmlc.magics.core.Html;
import jmlc.magics.core.MimeBundle;
import jmlc.magics.core.Output;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;

/**
 * The engine's progress reports (compiling the graph, making or quantizing weights, loading onto the
 * device) as one live display: a row per stage, with a bar while it runs and its time once done.
 * Updates closer together than 100 ms are coalesced; a new stage always shows at once.
 * Thread-safe: the engine reports from its worker threads. After {@link #cancel()}, the next report
 * throws {@link CancellationException}, which stops the load.
 */
final class LoadProgress implements Progress {

    private static final long MIN_INTERVAL_NANOS = 100_000_000L;

    private static final class Stage {
        final String name;
        final long start = System.nanoTime();
        long end;
        long done;
        long total;

        Stage(String name) {
            this.name = name;
        }
    }

    private final String title;
    private final DisplayHandle handle;
    private final List<Stage> stages = new ArrayList<>();
    private final long start = System.nanoTime();
    private long lastShown;
    private volatile boolean cancelled;
    private final List<String> warnings = new ArrayList<>();
    private String outcome;
    private long finished;

    LoadProgress(Output output, String title) {
        this.title = title;
        this.handle = DisplayHandle.open(output, render());
    }

    @Override
    public void update(String stage, long done, long total) {
        if (cancelled) throw new CancellationException("loading was interrupted");
        boolean show;
        synchronized (this) {
            if (outcome != null) return;
            Stage current = stages.isEmpty() ? null : stages.getLast();
            boolean newStage = current == null || !current.name.equals(stage);
            if (newStage) {
                if (current != null && current.end == 0) current.end = System.nanoTime();
                current = new Stage(stage);
                stages.add(current);
            }
            current.done = Math.max(current.done, done);
            current.total = total;
            long now = System.nanoTime();
            if (total > 0 && done >= total && current.end == 0) current.end = now;
            show = newStage || now - lastShown >= MIN_INTERVAL_NANOS;
            if (show) lastShown = now;
        }
        if (show) handle.update(render());
    }

    /** A warning (a tuning database that cannot be used): shown under the stages. */
    @Override
    public void warn(String message) {
        synchronized (this) {
            warnings.add(message);
        }
        handle.update(render());
    }

    /** Makes the next report stop the load. */
    void cancel() {
        cancelled = true;
    }

    /** Shows the final state: every stage's time and how the load ended. */
    void finish(String outcome) {
        synchronized (this) {
            if (this.outcome != null) return;
            long now = System.nanoTime();
            for (Stage s : stages) if (s.end == 0) s.end = now;
            this.outcome = outcome;
            this.finished = now;
        }
        handle.update(render());
    }

    synchronized MimeBundle render() {
        var text = new StringBuilder(title).append('\n');
        var html = new StringBuilder("<div class=\"jmlc-load-progress\"><b>").append(Html.escape(title))
                .append("</b><table>");
        for (Stage s : stages) {
            boolean running = s.end == 0;
            String count = s.total <= 1 ? "" : s.total >= 10L << 20
                    ? String.format(" %.1f/%.1f MiB", s.done / (double) (1 << 20), s.total / (double) (1 << 20))
                    : " " + s.done + "/" + s.total;
            String time = running ? "" : seconds(s.end - s.start);
            text.append(running ? "  ... " : "  done ").append(s.name).append(count)
                    .append(time.isEmpty() ? "" : "  " + time).append('\n');
            String bar = running
                    ? (s.total > 0 ? "<progress value=\"" + s.done + "\" max=\"" + s.total + "\"></progress>" : "<progress></progress>")
                    : "&#10003;";
            html.append("<tr><td style=\"text-align:left\">").append(Html.escape(s.name)).append("</td><td>").append(bar)
                    .append("</td><td style=\"text-align:right\">").append(Html.escape(count.strip()))
                    .append("</td><td style=\"text-align:right\">").append(time).append("</td></tr>");
        }
        html.append("</table>");
        for (String w : warnings) {
            text.append("warning: ").append(w).append('\n');
            html.append("<div style=\"color:#a05a00\">warning: ").append(Html.escape(w)).append("</div>");
        }
        if (outcome != null) {
            String line = outcome + " (" + seconds(finished - start) + ")";
            text.append(line);
            html.append("<div>").append(Html.escape(line)).append("</div>");
        }
        return MimeBundle.html(html.append("</div>").toString()).withText(text.toString().stripTrailing());
    }

    private static String seconds(long nanos) {
        return String.format("%.2f s", nanos / 1e9);
    }
}
