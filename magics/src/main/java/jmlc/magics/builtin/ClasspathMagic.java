package jmlc.magics.builtin;

import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicArgs;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MimeBundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code %classpath}: lists what Java cells compile against; {@code %classpath add JAR...} adds to it. */
public final class ClasspathMagic implements Magic {

    enum Action { list, add }

    @Command(name = "classpath",
            description = "Lists the classpath of Java cells, or adds jars or class folders to it.")
    static final class Args {
        @Parameters(index = "0", arity = "0..1", defaultValue = "list", paramLabel = "ACTION",
                description = "list (default) or add")
        Action action;

        @Parameters(index = "1..*", paramLabel = "PATH", description = "jars or class folders to add")
        List<String> paths = new ArrayList<>();
    }

    @Override
    public String name() {
        return "classpath";
    }

    @Override
    public String summary() {
        return "List the classpath of Java cells, or %classpath add JAR... to extend it.";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Object run(MagicContext ctx) {
        Args args = ctx.parse(new Args());
        switch (args.action) {
            case list -> {
                if (!args.paths.isEmpty()) throw new MagicException("%classpath list takes no paths (did you mean add?)");
                return MimeBundle.text(String.join("\n", ctx.shell().classpath()));
            }
            case add -> {
                if (args.paths.isEmpty()) throw new MagicException("%classpath add: name at least one jar or folder");
                for (String p : args.paths) {
                    Path path = Path.of(p).toAbsolutePath().normalize();
                    if (!Files.exists(path)) throw new MagicException("%classpath add: no such file or folder: " + path);
                    ctx.shell().addToClasspath(path.toString());
                    ctx.println("added " + path);
                }
                return null;
            }
        }
        throw new AssertionError(args.action);
    }
}
