package jmlc.engine.cli;

import jmlc.engine.model.Progress;

import java.util.Locale;

/**
 * Shows long work (loading, quantizing, compiling) on stderr: on a terminal, one line redrawn
 * with \r (at most ten times a second); otherwise plain lines, one when a stage starts and one
 * per quarter of a long stage, so logs stay short.
 */
final class ProgressBar implements Progress {
    private static final int WIDTH = 24;
    private final CliContext ctx;
    private String stage;
    private long lastDraw;
    private int lastQuarter;
    private int drawn; // characters on the current terminal line

    ProgressBar(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public synchronized void update(String stage, long done, long total) {
        if (ctx.quiet) return;
        boolean fresh = !stage.equals(this.stage);
        this.stage = stage;
        if (ctx.errTerminal) {
            long now = System.nanoTime();
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
