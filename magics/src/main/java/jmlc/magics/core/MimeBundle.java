package jmlc.magics.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a display shows: one representation per MIME type, the richest of which the front end picks.
 * Text types hold their text; image/png holds base64 (as Jupyter sends it). Knows nothing of Jupyter's
 * wire protocol: the kernel turns a bundle into display_data, execute_result or update_display_data.
 *
 * @param data     MIME type -> representation, in insertion order
 * @param metadata MIME type (or other key) -> metadata, e.g. {@code image/png -> {width: 300}}
 */
public record MimeBundle(Map<String, Object> data, Map<String, Object> metadata) {

    public static final String TEXT = "text/plain";
    public static final String HTML = "text/html";
    public static final String MARKDOWN = "text/markdown";
    public static final String SVG = "image/svg+xml";
    public static final String PNG = "image/png";
    public static final String JSON = "application/json";

    public MimeBundle {
        if (data.isEmpty()) throw new IllegalArgumentException("a MIME bundle needs at least one representation");
        data = new LinkedHashMap<>(data);
        if (data.get(SVG) instanceof String svg) data.put(SVG, svgElement(svg));
        data = Collections.unmodifiableMap(data);
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    public static MimeBundle of(String mimeType, Object value) {
        return new MimeBundle(Map.of(mimeType, value), Map.of());
    }

    public static MimeBundle text(String text) {
        return of(TEXT, text);
    }

    public static MimeBundle html(String html) {
        return of(HTML, html);
    }

    public static MimeBundle markdown(String markdown) {
        return of(MARKDOWN, markdown);
    }

    public static MimeBundle svg(String svg) {
        return of(SVG, svg);
    }

    /**
     * An SVG as a notebook holds it: the {@code <svg>} element, without the XML declaration and
     * DOCTYPE a standalone file starts with (nbconvert's HTML export rejects an
     * {@code encoding="UTF-8"} declaration in a text string, and HTML needs neither).
     */
    static String svgElement(String svg) {
        int start = svg.indexOf("<svg");
        return start > 0 && svg.substring(0, start).strip().startsWith("<?xml") ? svg.substring(start) : svg;
    }

    /** A PNG image from its encoded bytes. */
    public static MimeBundle png(byte[] png) {
        return of(PNG, Base64.getEncoder().encodeToString(png));
    }

    /** A PNG image encoded from a Java image (a chart drawn with Graphics2D, say). */
    public static MimeBundle png(java.awt.image.RenderedImage image) {
        var bytes = new ByteArrayOutputStream();
        try {
            javax.imageio.ImageIO.write(image, "png", bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode image as PNG", e);
        }
        return png(bytes.toByteArray());
    }

    /** This bundle with one more (or a replaced) representation. */
    public MimeBundle with(String mimeType, Object value) {
        var d = new LinkedHashMap<>(data);
        d.put(mimeType, value);
        return new MimeBundle(d, metadata);
    }

    /** This bundle with a text/plain fallback, for front ends (and logs) that show no HTML. */
    public MimeBundle withText(String text) {
        return with(TEXT, text);
    }

    public MimeBundle withMetadata(String key, Object value) {
        var m = new LinkedHashMap<>(metadata);
        m.put(key, value);
        return new MimeBundle(data, m);
    }

    /** The text/plain representation, or null. */
    public String text() {
        return data.get(TEXT) instanceof String s ? s : null;
    }

    /**
     * The bundle showing {@code value}: a bundle as is, a {@link Displayable}'s own bundle, an image as
     * PNG, anything else as its {@code toString()} in text/plain.
     */
    public static MimeBundle from(Object value) {
        return switch (value) {
            case null -> text("null");
            case MimeBundle b -> b;
            case Displayable d -> d.toMimeBundle();
            case java.awt.image.RenderedImage image -> png(image);
            default -> text(String.valueOf(value));
        };
    }
}
