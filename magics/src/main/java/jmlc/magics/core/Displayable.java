package jmlc.magics.core;

/**
 * A value that knows how to show itself in a notebook. When a cell's last expression (or a magic's
 * result, or an argument of {@link Display#display}) implements this, the kernel shows
 * {@link #toMimeBundle()} instead of {@code toString()}.
 */
@FunctionalInterface
public interface Displayable {
    MimeBundle toMimeBundle();
}
