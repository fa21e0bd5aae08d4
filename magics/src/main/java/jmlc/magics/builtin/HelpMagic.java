package jmlc.magics.builtin;

import jmlc.magics.core.Html;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicArgs;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MagicRegistry;
import jmlc.magics.core.MimeBundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;

/** {@code %help}: every magic with its one-line summary; {@code %help NAME}: one magic in detail. */
public final class HelpMagic implements Magic {

    @Command(name = "help", description = "Lists the magics, or shows one magic's full help.")
    static final class Args {
        @Parameters(arity = "0..1", paramLabel = "NAME", description = "a magic's name, with or without %% or %%%%")
        String name;
    }

    /** How cell code reaches the same things, shown below the table. */
    static final String JAVA_NOTE = """
            Java cells: the value of the last expression is shown; display(x) shows any value now; \
            Display.html/markdown/svg/png(...) show rich output; Jmlc.model() is the model %load loaded \
            (a ChatModule: chat, generate, benchmarkGenerate, stats); Jmlc.benchmarks() the %bench runs; \
            Jmlc.session() is the state magics share.""";

    @Override
    public String name() {
        return "help";
    }

    @Override
    public String summary() {
        return "List the magics, or %help NAME for one magic's details.";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Object run(MagicContext ctx) {
        Args args = ctx.parse(new Args());
        if (args.name == null) return overview(ctx.registry());
        String name = args.name.replaceFirst("^%%?", "");
        Magic magic = ctx.registry().find(name).orElseThrow(() -> new MagicException(
                "%help: no magic named " + args.name + ". Run %help to list them."));
        String title = forms(magic);
        String details = magic.help().equals(magic.summary()) ? "" : magic.help();
        String text = title + "\n\n" + magic.summary() + (details.isEmpty() ? "" : "\n\n" + details);
        String html = "<b>" + Html.escape(title) + "</b><p>" + Html.escape(magic.summary()) + "</p>"
                + (details.isEmpty() ? "" : "<pre>" + Html.escape(details) + "</pre>");
        return MimeBundle.html(html).withText(text);
    }

    private static MimeBundle overview(MagicRegistry registry) {
        var rows = new ArrayList<List<String>>();
        var text = new StringBuilder("Magics:\n");
        for (Magic m : registry.all()) {
            rows.add(List.of(forms(m), m.summary()));
            text.append(String.format("  %-22s %s%n", forms(m), m.summary()));
        }
        text.append('\n').append(JAVA_NOTE);
        String html = Html.table(List.of("magic", "what it does"), rows)
                + "<p>" + Html.escape(JAVA_NOTE) + "</p>";
        return MimeBundle.html(html).withText(text.toString());
    }

    /** "%name", "%%name" or "%name, %%name". */
    static String forms(Magic m) {
        var spelled = new ArrayList<String>();
        for (Form f : Form.values()) if (m.forms().contains(f)) spelled.add(MagicRegistry.spelled(m.name(), f));
        return String.join(", ", spelled);
    }
}
