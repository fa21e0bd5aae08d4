package jmlc.magics.core;

/**
 * Rich output from cell code and magics: each method shows its argument below the running cell
 * at once (Jupyter display_data) and returns a handle that can replace it later.
 *
 * <pre>{@code
 * display(model);                       // a Displayable shows its own bundle
 * Display.html("<b>bold</b>");
 * var bar = Display.markdown("step 1"); bar.update(MimeBundle.markdown("step 2"));
 * }</pre>
 *
 * A cell whose last expression is a {@link DisplayHandle} shows no result, so {@code display(x)}
 * at the end of a cell shows {@code x} once.
 */
public final class Display {

    private Display() {
    }

    /** Shows any value: see {@link MimeBundle#from}. */
    public static DisplayHandle display(Object value) {
        return DisplayHandle.open(Output.current(), value);
    }

    public static DisplayHandle html(String html) {
        return display(MimeBundle.html(html));
    }

    public static DisplayHandle markdown(String markdown) {
        return display(MimeBundle.markdown(markdown));
    }

    public static DisplayHandle svg(String svg) {
        return display(MimeBundle.svg(svg));
    }

    public static DisplayHandle png(byte[] png) {
        return display(MimeBundle.png(png));
    }

    public static DisplayHandle text(String text) {
        return display(MimeBundle.text(text));
    }
}
