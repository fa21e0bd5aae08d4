package jmlc.magics.core;

/**
 * The value of a Java cell's last expression: the object itself, JShell's text for it
 * ({@code "abc"} with quotes, {@code int[3] { 1, 2, 3 }}), and its static type. Shows as the object's
 * own bundle when it has one (a {@link Displayable}, a {@link MimeBundle}, an image), else as the text.
 */
public record JavaValue(Object object, String text, String type) implements Displayable {

    @Override
    public MimeBundle toMimeBundle() {
        return switch (object) {
            case MimeBundle b -> b;
            case Displayable d -> d.toMimeBundle();
            case java.awt.image.RenderedImage image -> MimeBundle.png(image);
            case null, default -> MimeBundle.text(text);
        };
    }
}
