package jmlc.magics.core;

/**
 * A progress bar that updates in place: {@code %load} shows loading and compiling with it.
 *
 * <pre>{@code
 * try (Progress p = ctx.progress("Compiling kernels", kernels.size())) {
 *     for (var k : kernels) { compile(k); p.step(k.name()); }
 * }                                                         // close() shows the final state
 * }</pre>
 *
 * Updates closer together than {@link #MIN_INTERVAL_NANOS} are coalesced so that a fast loop does
 * not flood the front end; the last state is always shown by {@link #done} or {@link #close}.
 */
public final class Progress implements AutoCloseable {

    public static final long MIN_INTERVAL_NANOS = 100_000_000L;

    private final String label;
    private final long total;
    private final DisplayHandle handle;
    private long done;
    private String detail = "";
    private long lastShown = System.nanoTime();
    private boolean finished;

    Progress(Output output, String label, long total) {
        this.label = label;
        this.total = total;
        this.handle = DisplayHandle.open(output, render());
    }

    /** One more unit done, with what is going on now. */
    public synchronized void step(String detail) {
        update(done + 1, detail);
    }

    /** Sets how much is done (of the total) and what is going on now. */
    public synchronized void update(long done, String detail) {
        if (finished) return;
        this.done = done;
        this.detail = detail == null ? "" : detail;
        long now = System.nanoTime();
        if (now - lastShown >= MIN_INTERVAL_NANOS || (total > 0 && done >= total)) {
            lastShown = now;
            handle.update(render());
        }
    }

    /** Shows the final state with a closing message; later updates are ignored. */
    public synchronized void done(String message) {
        if (finished) return;
        if (total > 0) done = Math.max(done, total);
        detail = message == null ? "" : message;
        finished = true;
        handle.update(render());
    }

    @Override
    public synchronized void close() {
        done(detail);
    }

    public synchronized long completed() {
        return done;
    }

    MimeBundle render() {
        String count = total > 0 ? done + "/" + total : Long.toString(done);
        String plain;
        if (total > 0) {
            int width = 30;
            int filled = (int) Math.min(width, done * width / total);
            plain = label + " [" + "#".repeat(filled) + "-".repeat(width - filled) + "] " + count;
        } else {
            plain = label + " " + count;
        }
        if (!detail.isEmpty()) plain += "  " + detail;
        String bar = total > 0
                ? "<progress value=\"" + done + "\" max=\"" + total + "\" style=\"width:20em\"></progress>"
                : "<progress style=\"width:20em\"" + (finished ? " value=\"1\" max=\"1\"" : "") + "></progress>";
        String html = "<div class=\"jmlc-progress\"><b>" + Html.escape(label) + "</b> " + bar + " " + count
                + (detail.isEmpty() ? "" : " <span>" + Html.escape(detail) + "</span>") + "</div>";
        return MimeBundle.html(html).withText(plain);
    }
}
