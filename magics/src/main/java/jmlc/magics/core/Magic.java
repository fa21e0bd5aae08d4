package jmlc.magics.core;

import java.util.Set;

/**
 * One magic command: {@code %name args} on a line of a cell, or {@code %%name args} as a cell's first
 * line with the rest of the cell as its body. One class per magic; list it in {@link Magics#all()}.
 *
 * <pre>{@code
 * public final class EchoMagic implements Magic {
 *     @Command(name = "echo", description = "Prints its words.")
 *     static final class Args { @Parameters List<String> words = List.of(); }
 *
 *     public String name() { return "echo"; }
 *     public String summary() { return "Print the arguments."; }
 *     public String help() { return MagicArgs.usage(name(), new Args()); }
 *     public Object run(MagicContext ctx) {
 *         Args args = ctx.parse(new Args());
 *         ctx.println(String.join(" ", args.words));
 *         return null;                         // or a value to show as the cell's result
 *     }
 * }
 * }</pre>
 */
public interface Magic {

    /** How a magic is invoked. */
    enum Form { LINE, CELL }

    /** The name after {@code %} or {@code %%}: letters, digits, '_', '-' and '.'. */
    String name();

    /** One line for {@code %help}. */
    String summary();

    /** Full help for {@code %help NAME}; picocli magics return {@link MagicArgs#usage}. */
    default String help() {
        return summary();
    }

    /** The forms this magic accepts; line only unless it says otherwise. */
    default Set<Form> forms() {
        return Set.of(Form.LINE);
    }

    /**
     * Runs the magic. Output goes through {@code ctx} while it runs (text, displays, progress); the
     * return value, unless null, is shown as the cell's result like a Java expression's value
     * (a {@link MimeBundle}, a {@link Displayable}, or anything with a useful {@code toString()}).
     * Throw {@link MagicException} for errors the user can fix; an interrupt arrives as
     * {@link InterruptedException} or the thread's interrupt flag.
     */
    Object run(MagicContext ctx) throws Exception;
}
