package jmlc.engine.cli;

import jmlc.engine.model.Progress;

import java.util.Locale;

/**
 * Shows long work (loading, quantizing, compiling, decoding) on stderr: on a terminal, one line
 * redrawn with \r (at most ten times a second); otherwise plain lines, one when a stage starts and
 * one per quarter of a long stage, so logs stay short. A bar made {@link #after} a delay shows a
 * stage only once it has run that long, so quick work stays quiet and slow work never is.
 */
final class ProgressBar implements Progress {
    private static final int WIDTH = 24;
    /** Work shorter than this needs no progress (the delay of {@link #after} bars). */
    static final double QUIET_SECONDS = 2;
    private final CliContext ctx;
    private final long delayNanos;
    private String stage;
    private long stageStart;
    private boolean shown;
    private long lastDraw;
    private int lastQuarter;
    private int drawn; // characters on the current terminal line

    ProgressBar(CliContext ctx) {
        this(ctx, 0);
    }

    private ProgressBar(CliContext ctx, long delayNanos) {
        this.ctx = ctx;
        this.delayNanos = delayNanos;
    }

    /** A bar that shows a stage only after it has run {@code seconds}. */
    static ProgressBar after(CliContext ctx, double seconds) {
        return new ProgressBar(ctx, (long) (seconds * 1e9));
    }

    @Override
    public synchronized void update(String stage, long done, long total) {
        if (ctx.quiet) return;
        long now = System.nanoTime();
        if (!stage.equals(this.stage)) {
            this.stage = stage;
            stageStart = now;
            shown = false;
        }
        if (now - stageStart < delayNanos) return;
        boolean fresh = !shown;
        shown = true;
        if (ctx.errTerminal) {
            if (!fresh && done < total && now - lastDraw < 100_000_000L) return;
            lastDraw = now;
            draw(line(stage, done, total));
        } else {
            int quarter = total > 1 ? (int) (4 * done / total) : 0;
            if (fresh) {
                ctx.err.println(stage + " ...");
                lastQuarter = quarter;
            } else if (quarter > lastQuarter && total > 1 && quarter < 4) {
                ctx.err.println(line(stage, done, total));
                lastQuarter = quarter;
            }
            ctx.err.flush();
        }
    }

    /** Clears the bar (on a terminal), printing nothing: the stage ended and its result speaks for it. */
    synchronized void clear() {
        if (ctx.errTerminal && drawn > 0) {
            draw("");
            ctx.err.print("\r");
            ctx.err.flush();
        }
        drawn = 0;
        stage = null;
        shown = false;
    }

    /** A warning on a line of its own, {@code jmlc: warning: ...} (even with --quiet). */
    @Override
    public synchronized void warn(String message) {
        if (ctx.errTerminal && drawn > 0) draw("");
        ctx.err.print(ctx.errTerminal && drawn > 0 ? "\r" : "");
        ctx.err.println("jmlc: warning: " + message);
        ctx.err.flush();
        drawn = 0;
        stage = null;
    }

    /** Clears the bar (on a terminal) and prints {@code message} as a line of its own. */
    synchronized void finish(String message) {
        if (ctx.quiet) return;
        if (ctx.errTerminal && drawn > 0) draw("");
        ctx.err.print(ctx.errTerminal ? "\r" : "");
        ctx.err.println(message);
        ctx.err.flush();
        drawn = 0;
        stage = null;
        shown = false;
    }

    private void draw(String text) {
        StringBuilder sb = new StringBuilder("\r").append(text);
        for (int i = text.length(); i < drawn; i++) sb.append(' ');
        drawn = text.length();
        ctx.err.print(sb);
        ctx.err.flush();
    }

    static String line(String stage, long done, long total) {
        if (total <= 1) return stage + (done >= total ? " ... done" : " ...");
        double f = Math.min(1, Math.max(0, (double) done / total));
        int fill = (int) Math.round(f * WIDTH);
        String amounts = total >= (1 << 20) ? bytes(done) + " of " + bytes(total) : done + " of " + total;
        return String.format(Locale.ROOT, "%s [%s%s] %3d%% %s", stage, "#".repeat(fill), ".".repeat(WIDTH - fill), Math.round(f * 100), amounts);
    }

    /** 10.4 MiB, 3.6 GiB. */
    static String bytes(double b) {
        if (b >= 1L << 30) return String.format(Locale.ROOT, "%.1f GiB", b / (1L << 30));
        if (b >= 1L << 20) return String.format(Locale.ROOT, "%.1f MiB", b / (1L << 20));
        if (b >= 1L << 10) return String.format(Locale.ROOT, "%.1f KiB", b / (1L << 10));
        return String.format(Locale.ROOT, "%.0f B", b);
    }
}
