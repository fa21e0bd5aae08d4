package jmlc.magics.builtin;

import jmlc.magics.core.Html;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicArgs;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MimeBundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code %session}: what the notebook's shared state holds ({@code Jmlc.session()}). */
public final class SessionMagic implements Magic {

    @Command(name = "session",
            description = "Lists the entries of the shared session, or removes one.")
    static final class Args {
        @Parameters(index = "0", arity = "0..1", defaultValue = "list", paramLabel = "ACTION",
                description = "list (default) or remove")
        String action;

        @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "the entry to remove")
        String entry;
    }

    @Override
    public String name() {
        return "session";
    }

    @Override
    public String summary() {
        return "List the shared session's entries (Jmlc.session()), or %session remove NAME.";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Object run(MagicContext ctx) {
        Args args = ctx.parse(new Args());
        Map<String, Object> entries = ctx.session().entries();
        switch (args.action) {
            case "list" -> {
                if (entries.isEmpty()) return MimeBundle.text("The session is empty.");
                var rows = new ArrayList<List<String>>();
                var text = new StringBuilder();
                for (var e : entries.entrySet()) {
                    String type = e.getValue().getClass().getName();
                    String value = abbreviate(String.valueOf(e.getValue()));
                    rows.add(List.of(e.getKey(), type, value));
                    text.append(e.getKey()).append(" : ").append(type).append(" = ").append(value).append('\n');
                }
                return MimeBundle.html(Html.table(List.of("name", "type", "value"), rows)).withText(text.toString().strip());
            }
            case "remove" -> {
                if (args.entry == null) throw new MagicException("%session remove: name the entry to remove");
                if (!entries.containsKey(args.entry)) {
                    throw new MagicException("%session remove: no entry named " + args.entry + "; entries: " + entries.keySet());
                }
                ctx.session().remove(jmlc.magics.core.Session.Key.of(args.entry, Object.class));
                ctx.println("removed " + args.entry);
                return null;
            }
            default -> throw new MagicException("%session: unknown action '" + args.action + "' (list or remove)");
        }
    }

    private static String abbreviate(String s) {
        s = s.replace('\n', ' ');
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
